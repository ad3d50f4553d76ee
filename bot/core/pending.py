"""What a conversation waits for from its person: a slot, a yes or no, or a choice among offers.

Three typed values, and the one encoder and decoder between them and the JSON in
``conversation_state.pending`` (``{"kind": "slot" | "confirm" | "clarify", ...}``;
``{}`` when nothing is pending). The JSON keeps the shape it had before these types, so
rows written then still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from bot.core.parse import ParseResult

__all__ = ["ClarifyPending", "ConfirmPending", "Pending", "SlotPending", "decode_pending", "encode_pending"]


@dataclass(frozen=True)
class SlotPending:
    """``skill`` asked for slot ``awaiting`` of ``intent`` (None when asked outside an intent, from a click);
    ``slots`` are those already filled."""

    skill: str
    intent: str | None
    awaiting: str
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfirmPending:
    """``skill`` asked yes or no about ``action`` (with ``data``); ``nonce`` is in the answer buttons' ids."""

    skill: str
    action: str
    data: dict[str, Any] = field(default_factory=dict)
    nonce: str = ""


@dataclass(frozen=True)
class ClarifyPending:
    """Offers were made for a message: a click on one starts its intent with this ``text``, ``parse`` and ``slots``.

    ``options`` are the intents offered as readings of an unclear message; None for a skill's own offer.
    """

    text: str
    parse: ParseResult | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    options: tuple[str, ...] | None = None


Pending = SlotPending | ConfirmPending | ClarifyPending
"""Anything a conversation may wait for; None where nothing is pending."""


def encode_pending(pending: Pending | None) -> dict[str, Any]:
    """The JSON stored for ``pending`` (``{}`` for nothing)."""
    match pending:
        case SlotPending(skill, intent, awaiting, slots):
            return {"kind": "slot", "skill": skill, "intent": intent, "awaiting": awaiting, "slots": slots}
        case ConfirmPending(skill, action, data, nonce):
            return {"kind": "confirm", "skill": skill, "action": action, "data": data, "nonce": nonce}
        case ClarifyPending(text, parse, slots, options):
            stored: dict[str, Any] = {"kind": "clarify", "text": text, "parse": parse}
            if options is not None:
                stored["options"] = list(options)
            stored["slots"] = slots
            return stored
    return {}


def decode_pending(stored: Mapping[str, Any] | None) -> Pending | None:
    """The pending step in ``stored`` JSON; None for ``{}`` or a kind this version does not know."""
    stored = stored or {}
    kind = stored.get("kind")
    if kind == "slot":
        return SlotPending(str(stored["skill"]), stored["intent"], str(stored["awaiting"]),
                           dict(stored.get("slots") or {}))
    if kind == "confirm":
        return ConfirmPending(str(stored["skill"]), str(stored["action"]), dict(stored.get("data") or {}),
                              str(stored.get("nonce", "")))
    if kind == "clarify":
        options = stored.get("options")
        return ClarifyPending(str(stored.get("text", "")), cast("ParseResult | None", stored.get("parse")),
                              dict(stored.get("slots") or {}), None if options is None else tuple(options))
    return None
