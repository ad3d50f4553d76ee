"""Replies as Adaptive Cards for Teams, and card actions back as turn fields.

Every reply is one card: the text, the fields as a FactSet, a form's inputs,
and one ``Action.Execute`` per button. An action's ``verb`` and its data key
``ACTION_KEY`` hold the button id (or the form's submit id), so an
``adaptiveCard/action`` invoke becomes a Turn with ``action`` set, as a Slack
click does. Teams merges the inputs' values into the action data by input id,
so a submitted form comes back as the other data keys.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.messages import Form, FormInput, Reply

__all__ = ["ACTION_KEY", "CARD_CONTENT_TYPE", "CARD_VERSION", "action_of", "card_attachment", "card_text",
           "mention_entity", "render_card"]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
ACTION_KEY = "helpdesk_action"
"""The action data key that carries the button or form id (never a form input name)."""

_STYLES = {"primary": "positive", "danger": "destructive"}
_MARKDOWN = re.compile(r"([\\*_\[\]`~])")
_AT_TAG = re.compile(r"<(?=/?at\b)", re.IGNORECASE)


def card_text(text: str) -> str:
    """Plain text as a TextBlock shows it: Markdown characters escaped (a user's ``[link](...)``
    stays text), a typed ``<at>`` tag broken with a zero-width space (so it can never match a
    mention entity), and each line break doubled, since a single one does not break the line in a card."""
    return _AT_TAG.sub("<\u200b", _MARKDOWN.sub(r"\\\1", text)).replace("\n", "\n\n")


def mention_entity(kind: str, channel_id: str, team_id: str | None) -> dict[str, Any]:
    """The Teams mention entity that pages a team channel: the team for ``everyone`` (when the team
    is known), otherwise the channel (``channel`` and ``here``; Teams has no "here")."""
    if kind == "everyone" and team_id:
        return {"type": "mention", "text": "<at>team</at>",
                "mentioned": {"id": team_id, "name": "team", "type": "team"}}
    return {"type": "mention", "text": "<at>channel</at>",
            "mentioned": {"id": channel_id, "name": "channel", "type": "channel"}}


def render_card(reply: Reply, mention: dict[str, Any] | None = None) -> dict[str, Any]:
    """The reply as an Adaptive Card (schema 1.5, actions as ``Action.Execute``).

    ``mention`` (a ``mention_entity``) is put before the text and into the card's
    ``msteams.entities``, which is where Teams reads a card's mentions.
    """
    body: list[dict[str, Any]] = []
    if reply.text or mention:
        text = card_text(reply.text)
        if mention:
            text = f"{mention['text']} {text}".rstrip()
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    if reply.fields:
        body.append({"type": "FactSet",
                     "facts": [{"title": f.label, "value": card_text(f.value)} for f in reply.fields]})
    actions = [_execute(button.id, button.label, _STYLES.get(button.style or "")) for button in reply.buttons]
    if reply.form is not None:
        body.extend(_form_body(reply.form))
        submit = _execute(reply.form.submit, reply.form.submit_label, "positive")
        submit["data"]["helpdesk_form"] = True
        actions.append(submit)
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    if mention:
        card["msteams"] = {"entities": [mention]}
    return card


def card_attachment(reply: Reply, mention: dict[str, Any] | None = None) -> dict[str, Any]:
    """The card as a message attachment."""
    return {"contentType": CARD_CONTENT_TYPE, "content": render_card(reply, mention)}


def action_of(data: object) -> tuple[str, dict[str, str] | None] | None:
    """The button or form id in an invoke's action data, and the form values (``None`` for a button).

    Returns ``None`` when the data is not one of our actions.
    """
    if not isinstance(data, dict) or not isinstance(data.get(ACTION_KEY), str) or not data[ACTION_KEY]:
        return None
    if not data.get("helpdesk_form"):
        return data[ACTION_KEY], None
    values = {
        str(name): _as_text(value)
        for name, value in data.items()
        if name not in (ACTION_KEY, "helpdesk_form")
    }
    return data[ACTION_KEY], values


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _execute(action_id: str, title: str, style: str | None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": action_id,
                              "data": {ACTION_KEY: action_id}}
    if style:
        action["style"] = style
    return action


def _form_body(form: Form) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "TextBlock", "text": card_text(form.title), "weight": "Bolder",
                                     "wrap": True}]
    blocks.extend(_input(i) for i in form.inputs)
    return blocks


def _input(spec: FormInput) -> dict[str, Any]:
    """One form input as an Adaptive Card ``Input.*`` element (its ``id`` is the input name)."""
    element: dict[str, Any] = {"id": spec.name, "label": spec.label, "isRequired": not spec.optional}
    if not spec.optional:
        element["errorMessage"] = f"{spec.label} is required."
    if spec.kind in ("choice", "multichoice"):
        element.update(type="Input.ChoiceSet", style="expanded" if spec.kind == "multichoice" else "compact",
                       isMultiSelect=spec.kind == "multichoice",
                       choices=[{"title": label, "value": value} for value, label in spec.choices])
    elif spec.kind == "boolean":
        element.update(type="Input.Toggle", title=spec.hint or spec.label, valueOn="yes", valueOff="no")
        element["isRequired"] = False
        element.pop("errorMessage", None)
    else:
        element.update(type="Input.Text", isMultiline=spec.kind == "textarea")
        if spec.hint:
            element["placeholder"] = spec.hint
    if spec.initial:
        element["value"] = spec.initial
    return element
