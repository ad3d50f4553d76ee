"""Block Kit for the Slack channel: reply parts to blocks, forms to modals and back, the App Home view.

Pure functions, no network: ``bot/channels/slack/channel.py`` posts what these build.
Every text from a reply is escaped for mrkdwn (``&``, ``<``, ``>``), so user
text can never become a mention, a link or ``<!channel>``. The one way to page
a channel is ``page`` (from ``Reply.mention``), which the channel passes only
for a shared conversation: the real ``<!channel>`` is put before the escaped text.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from bot.core.action import Decide, encode_action
from bot.core.messages import Button, Field, Form, FormInput, Reply

__all__ = [
    "FEEDBACK",
    "FORM_CALLBACK",
    "OPEN_FORM",
    "chosen_label",
    "decided_blocks",
    "escape",
    "form_from_value",
    "form_to_value",
    "home_view",
    "message_blocks",
    "modal_view",
    "plain_text",
    "submitted_values",
]

Block = dict[str, Any]

OPEN_FORM = "form:open"
"""The action id of the button that opens a form as a modal (its value carries the form)."""
FORM_CALLBACK = "helpdesk_form"
"""The ``callback_id`` of our modals."""
FEEDBACK = "feedback"
"""The action id of the feedback buttons ("Did this help?"); the chosen one's value is its button id."""

SECTION_LIMIT = 3000  # characters of mrkdwn in one section block
FIELD_LIMIT = 2000
MAX_BLOCKS = 50
BUTTON_TEXT_LIMIT = 75
TEXT_LIMIT = 40000  # chat.postMessage's own limit for the fallback text


def escape(text: str) -> str:
    """``text`` safe for mrkdwn: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A ``plain_text`` object cut to ``limit`` characters (Slack refuses longer ones)."""
    text = text.strip() or " "
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…", "emoji": True}


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def _button(button: Button) -> Block:
    element: Block = {
        "type": "button",
        "action_id": button.id[:255],
        "value": button.id[:2000],
        "text": plain_text(button.label, BUTTON_TEXT_LIMIT),
    }
    if button.style:
        element["style"] = button.style
    return element


def _fields(fields: tuple[Field, ...]) -> list[Block]:
    blocks = []
    for start in range(0, len(fields), 10):  # a section holds at most ten fields
        group = fields[start : start + 10]
        blocks.append({
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{escape(f.label)}*\n{escape(f.value)}"[:FIELD_LIMIT]} for f in group
            ],
        })
    return blocks


def _paged(text: str, page: str | None) -> str:
    """``text`` (already escaped) after Slack's special mention ``<!channel>``/``<!everyone>``/``<!here>``."""
    if page not in ("channel", "everyone", "here"):
        return text
    return f"<!{page}> {text}"


def message_blocks(reply: Reply, *, page: str | None = None) -> list[Block]:
    """The blocks of one message: the text, its fields, its buttons (and a button that opens its form).

    ``page`` (``"channel"``, ``"everyone"`` or ``"here"``) puts that special mention first.
    """
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        for piece in _chunks(_paged(escape(reply.text), page), SECTION_LIMIT)
    ]
    blocks.extend(_fields(reply.fields))
    feedback = _feedback(reply.buttons)
    elements = [_button(b) for b in reply.buttons if feedback is None or b.feedback is None]
    if reply.form is not None:
        elements.append({
            "type": "button",
            "action_id": OPEN_FORM,
            "value": form_to_value(reply.form),
            "style": "primary",
            "text": plain_text(reply.form.title, BUTTON_TEXT_LIMIT),
        })
    for start in range(0, len(elements), 25):  # an actions block holds at most 25 elements
        blocks.append({"type": "actions", "elements": elements[start : start + 25]})
    if feedback is not None:
        blocks.append({"type": "context_actions", "elements": [feedback]})
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [_context("(message cut short: it was too long for Slack)")]
    return blocks


def _feedback(buttons: tuple[Button, ...]) -> Block | None:
    """Slack's feedback buttons (the thumbs under an agent's answer) for a reply's "Did this help?" pair."""
    positive = next((b for b in buttons if b.feedback == "positive"), None)
    negative = next((b for b in buttons if b.feedback == "negative"), None)
    if positive is None or negative is None:
        return None

    def side(button: Button) -> Block:
        return {"text": plain_text(button.label, BUTTON_TEXT_LIMIT), "value": button.id[:2000],
                "accessibility_label": button.label[:BUTTON_TEXT_LIMIT]}

    return {"type": "feedback_buttons", "action_id": FEEDBACK, "positive_button": side(positive),
            "negative_button": side(negative)}


def fallback_text(reply: Reply, *, page: str | None = None) -> str:
    """The notification text that goes with the blocks (what a phone shows), after ``page``'s mention."""
    lines = [reply.text] + [f"{f.label}: {f.value}" for f in reply.fields]
    return _paged(escape("\n".join(line for line in lines if line)), page)[:TEXT_LIMIT] or " "


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def decided_blocks(blocks: list[Block], label: str, user_id: str) -> list[Block]:
    """A clicked message's blocks with its buttons gone and who chose what in their place."""
    kept = [b for b in blocks if b.get("type") not in ("actions", "context_actions")]
    return kept + [_context(f"*{escape(label)}* — chosen by <@{user_id}>")]


def chosen_label(blocks: list[Block], action: dict[str, Any]) -> str:
    """The label of the clicked button: a button's own text, or the chosen side of the feedback buttons."""
    text = (action.get("text") or {}).get("text")
    if text:
        return str(text)
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "context_actions" else []:
            for side in (element.get("positive_button"), element.get("negative_button")):
                if side and side.get("value") == action.get("value"):
                    return str(side["text"]["text"])
    return ""


# Forms ----------------------------------------------------------------------


def form_to_value(form: Form) -> str:
    """The form packed into a button value (at most 2,000 characters), so no state is kept in memory."""
    data = {
        "s": form.submit, "t": form.title, "l": form.submit_label,
        "i": [[i.name, i.label, i.kind, [list(c) for c in i.choices], i.optional, i.initial, i.hint]
              for i in form.inputs],
    }
    packed = base64.urlsafe_b64encode(zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 9)).decode()
    if len(packed) > 2000:
        raise ValueError(f"form {form.submit!r} is too large for a Slack button ({len(packed)} characters)")
    return packed


def form_from_value(value: str) -> Form:
    """The form a button value carries (the reverse of ``form_to_value``); ValueError if it is not one."""
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(value.encode())))
        inputs = tuple(
            FormInput(name, label, kind, tuple((str(v), str(t)) for v, t in choices), bool(optional), initial, hint)
            for name, label, kind, choices, optional, initial, hint in data["i"]
        )
        return Form(str(data["s"]), str(data["t"]), inputs, str(data["l"]))
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise ValueError(f"not a form: {exc}") from None


def _option(value: str, label: str) -> Block:
    return {"text": plain_text(label, 75), "value": value[:150]}


def _element(item: FormInput) -> Block:
    options = [_option(v, t) for v, t in item.choices]
    initial = [o for o in options if o["value"] in item.initial.split(",")] if item.initial else []
    element: Block
    if item.kind in ("text", "textarea", "datetime"):
        element = {"type": "plain_text_input", "action_id": "value", "multiline": item.kind == "textarea"}
        if item.initial:
            element["initial_value"] = item.initial
        if item.kind == "datetime":
            element["placeholder"] = plain_text(item.hint or "e.g. Sat 6am", 150)
    elif item.kind == "choice":
        element = {"type": "static_select", "action_id": "value", "options": options}
        if initial:
            element["initial_option"] = initial[0]
    elif item.kind == "multichoice":
        element = {"type": "multi_static_select", "action_id": "value", "options": options}
        if initial:
            element["initial_options"] = initial
    else:  # boolean
        yes_no = [_option("yes", "Yes"), _option("no", "No")]
        element = {"type": "radio_buttons", "action_id": "value", "options": yes_no}
        chosen = [o for o in yes_no if o["value"] == (item.initial or "").lower()]
        if chosen:
            element["initial_option"] = chosen[0]
    return element


def modal_view(form: Form, conversation: str) -> Block:
    """The form as a modal. ``conversation`` is where its submission is answered (kept in the view)."""
    blocks = []
    for item in form.inputs[:100]:
        block: Block = {
            "type": "input",
            "block_id": item.name[:255],
            "label": plain_text(item.label, 2000),
            "optional": item.optional,
            "element": _element(item),
        }
        if item.hint and item.kind != "datetime":
            block["hint"] = plain_text(item.hint, 2000)
        blocks.append(block)
    metadata = json.dumps({"submit": form.submit, "conversation": conversation}, separators=(",", ":"))
    if len(metadata) > 3000:
        raise ValueError(f"form {form.submit!r}: its submit id is too long for a Slack modal")
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": metadata,
        "title": plain_text(form.title, 24),
        "submit": plain_text(form.submit_label, 24),
        "close": plain_text("Cancel", 24),
        "blocks": blocks,
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's values by input name, all strings (multichoice comma-separated)."""
    values: dict[str, str] = {}
    for name, actions in (view.get("state", {}).get("values") or {}).items():
        state: dict[str, Any] = actions.get("value") or next(iter(actions.values()), {})
        if "selected_options" in state:
            values[name] = ",".join(o["value"] for o in state["selected_options"] or [])
        elif "selected_option" in state:
            values[name] = (state["selected_option"] or {}).get("value", "")
        else:
            values[name] = state.get("value") or ""
    return values


# App Home -------------------------------------------------------------------


def home_view(
    name: str,
    quick_actions: list[Button],
    tickets: list[tuple[str, str, str]] | None,
    outages: list[tuple[str, str]],
    approvals: list[tuple[int, str, str]] | None,
) -> Block:
    """The App Home tab: quick actions, your open tickets, current outages and (technicians) pending approvals.

    ``tickets`` are (key, summary, status), or None when the ticket system does not
    answer; ``outages`` (title, since); ``approvals`` (id, summary, requester), or
    None for someone who is not a technician.
    """
    blocks: list[Block] = [{"type": "header", "text": plain_text(f"IT Helpdesk — hello, {name}", 150)}]
    if quick_actions:
        blocks.append({"type": "actions", "block_id": "quick", "elements": [_button(b) for b in quick_actions]})
    blocks.append({"type": "header", "text": plain_text("Your open tickets", 150)})
    if tickets is None:
        blocks.append(_context("Your tickets can't be read right now: the ticket system is not answering."))
    elif tickets:
        blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*{escape(key)}* {escape(summary)} — {escape(status)}")[:SECTION_LIMIT]}}
            for key, summary, status in tickets[:15])
    else:
        blocks.append(_context("You have no open tickets."))
    blocks.append({"type": "header", "text": plain_text("Current outages", 150)})
    if outages:
        blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*{escape(title)}* (since {escape(since)})")[:SECTION_LIMIT]}} for title, since in outages[:10])
    else:
        blocks.append(_context("No known outages right now."))
    if approvals is not None:
        blocks.append({"type": "header", "text": plain_text("Pending approvals", 150)})
        if not approvals:
            blocks.append(_context("Nothing is waiting for approval."))
        for approval_id, summary, requester in approvals[:10]:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (
                f"*#{approval_id}* {escape(summary)}\nRequested by {escape(requester)}")[:SECTION_LIMIT]}})
            blocks.append({"type": "actions", "block_id": f"approval{approval_id}", "elements": [
                _button(Button(encode_action(Decide(approval_id, "approve")), "Approve", "primary")),
                _button(Button(encode_action(Decide(approval_id, "deny")), "Deny", "danger")),
            ]})
    return {"type": "home", "blocks": blocks[:100]}
