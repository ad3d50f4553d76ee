"""Reading Teams activities: their sanity, sender and conversation kind, plain text, and turns kept in the inbox."""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

from microsoft_agents.activity import Activity, AdaptiveCardInvokeResponse
from pydantic import ValidationError

from bot.core.inbound import BadInput, clean_id
from bot.core.messages import Employee, Turn

__all__ = ["CONVERSATION_ID_CHARS", "conversation_kind", "malformed", "message_response", "plain_text",
           "restored_turn", "sender_aad", "stored_turn"]

CONVERSATION_ID_CHARS = 400  # the length of the stored conversation id columns
_MARKUP = re.compile(r"</?(?:at|p|div|span|br|b|i|strong|em)\b[^>]*>", re.IGNORECASE)


def message_response(text: str) -> AdaptiveCardInvokeResponse:
    """An invoke answer that shows ``text`` to the person who clicked."""
    return AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.activity.message", value=text)


def sender_aad(activity: Activity) -> str | None:
    """The sender's Entra object id, if the activity has one."""
    sender = activity.from_property
    return (sender.aad_object_id or None) if sender is not None else None


def conversation_kind(activity: Activity) -> str:
    """``personal``, ``groupChat`` or ``channel`` (a personal chat when Teams does not say)."""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind or "personal"


def stored_turn(turn: Turn) -> dict[str, Any]:
    """``turn`` as JSON for the inbox (it is whole once the sender is resolved, which needs the live activity)."""
    return dataclasses.asdict(turn)


def restored_turn(stored: dict[str, Any]) -> Turn:
    """The turn ``stored_turn`` wrote."""
    values = dict(stored)
    employee = values.pop("employee", None)
    return Turn(**values, employee=Employee(**employee) if employee else None)


def plain_text(text: str) -> str:
    """The message as typed: Teams' HTML markup and entities removed (the bot's own @mention is already gone).

    Other people's mentions keep their names ("<at>Tom</at>" becomes "Tom").
    """
    plain = html.unescape(_MARKUP.sub(" ", text)).replace("\xa0", " ")
    return re.sub(r"[ \t]{2,}", " ", plain).strip()


def malformed(body: object) -> str | None:
    """Why ``body`` is not an activity we can handle, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (an activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "the activity has no type"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str) or not conversation["id"]:
        return "the activity has no conversation.id"
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"].startswith(("https://", "http://")):
        return "the activity has no serviceUrl"
    if not isinstance(body.get("text", ""), str | None):
        return "the activity's text is not a string"
    sender = body.get("from")
    try:
        clean_id(conversation["id"], "conversation.id", limit=CONVERSATION_ID_CHARS)
        if sender is not None:
            if not isinstance(sender, dict):
                return "the activity's from is not an object"
            for name in ("id", "aadObjectId"):
                if sender.get(name) is not None:
                    clean_id(sender[name], f"from.{name}")
    except BadInput as exc:
        return str(exc)
    try:
        Activity.model_validate(body)
    except ValidationError as exc:
        return f"the activity is not valid: {exc.error_count()} field(s) wrong"
    return None
