"""Reading what Slack sends: request bodies, their sanity, modal metadata, inbox keys and escaped text."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from bot.core.inbound import BadInput, clean_id, loads

__all__ = ["dedup_key", "form_metadata", "parse_body", "senseless", "unescape"]

_NEEDS_SENDER = ("message", "app_mention", "app_home_opened")


def parse_body(body: str, content_type: str) -> dict[str, Any] | None:
    """The body parsed the way Slack sends it (JSON events, or a form, with a JSON ``payload``), or None."""
    try:
        if content_type.startswith("application/json"):
            parsed = loads(body)
            return parsed if isinstance(parsed, dict) else None
        form = parse_qs(body, keep_blank_values=True)
        if "payload" in form:
            parsed = loads(form["payload"][0])
            return parsed if isinstance(parsed, dict) else None
        return {name: values[0] for name, values in form.items()} or None
    except (ValueError, UnicodeDecodeError):
        return None


def senseless(payload: dict[str, Any]) -> str | None:
    """Why a well-formed Slack request names nobody the bot could answer (a user id that is not one), or None."""
    try:
        if payload.get("type") == "event_callback":
            event = payload.get("event")
            if not isinstance(event, dict):
                return "the event is not an object"
            if event.get("type") in _NEEDS_SENDER and ("user" in event or not event.get("subtype")):
                clean_id(event.get("user"), "event.user")  # other events (user_change ...) carry objects here
                if event.get("type") != "app_home_opened":
                    clean_id(event.get("channel"), "event.channel")
            if not isinstance(event.get("text", ""), str | None):
                return "event.text is not a string"
        elif payload.get("type") in ("block_actions", "view_submission"):
            clean_id((payload.get("user") or {}).get("id") if isinstance(payload.get("user"), dict) else None,
                     "user.id")
        elif "command" in payload:
            clean_id(payload.get("user_id"), "user_id")
            clean_id(payload.get("channel_id"), "channel_id")
    except BadInput as exc:
        return str(exc)
    return None


def form_metadata(raw: object) -> dict[str, str] | None:
    """The ``private_metadata`` the bot put on a modal (``{"submit", "conversation"}``), or None if it is not that."""
    try:
        meta = loads(raw) if isinstance(raw, str) and raw else None
        if not isinstance(meta, dict) or not isinstance(meta.get("submit"), str) or not meta["submit"]:
            return None
        conversation = meta.get("conversation")
        cleaned = clean_id(conversation, "conversation") if conversation else ""
        return {"submit": meta["submit"], "conversation": cleaned}
    except BadInput:
        return None


def dedup_key(kind: str, *parts: object) -> str:
    """``kind:part:...``, the inbox key of a command, click or submission; empty when Slack left a part out."""
    values = [str(part or "") for part in parts]
    return f"{kind}:{':'.join(values)}" if all(values) else ""


def unescape(text: str) -> str:
    """Slack's escaped message text back to what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
