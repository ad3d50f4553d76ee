"""Pending state: typed values, one encoder and decoder, and the JSON shape rows already hold."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.pending import ClarifyPending, ConfirmPending, Pending, SlotPending, decode_pending, encode_pending

PARSE: Any = {"text": "vpn", "intent": {"name": "howto", "confidence": 0.4}, "entities": [], "intent_ranking": []}

SHAPES: list[tuple[Pending, dict[str, Any]]] = [
    (SlotPending("tickets", "open_ticket", "summary", {"system": "vpn"}),
     {"kind": "slot", "skill": "tickets", "intent": "open_ticket", "awaiting": "summary", "slots": {"system": "vpn"}}),
    (ConfirmPending("accounts", "reset", {"target": "ann"}, "ab12cd34"),
     {"kind": "confirm", "skill": "accounts", "action": "reset", "data": {"target": "ann"}, "nonce": "ab12cd34"}),
    (ClarifyPending("vpn", PARSE, {"summary": "vpn"}, ("howto", "open_ticket")),
     {"kind": "clarify", "text": "vpn", "parse": PARSE, "options": ["howto", "open_ticket"],
      "slots": {"summary": "vpn"}}),
    (ClarifyPending("vpn", None, {"summary": "vpn"}),
     {"kind": "clarify", "text": "vpn", "parse": None, "slots": {"summary": "vpn"}}),
]


@pytest.mark.parametrize(("pending", "stored"), SHAPES)
def test_each_pending_step_keeps_the_json_shape_it_had(pending: Pending, stored: dict[str, Any]) -> None:
    """The encoder writes what the string-keyed dicts wrote, and the decoder reads it back as the same value."""
    assert encode_pending(pending) == stored
    assert decode_pending(stored) == pending


def test_nothing_pending_is_an_empty_object() -> None:
    """None is stored as {}, and {} (or an unknown kind) reads as nothing pending."""
    assert encode_pending(None) == {}
    assert decode_pending({}) is None
    assert decode_pending(None) is None
    assert decode_pending({"kind": "something newer"}) is None


def test_old_rows_without_optional_keys_load() -> None:
    """Rows written before the typed values may lack ``slots``, ``data`` or ``options``."""
    assert decode_pending({"kind": "slot", "skill": "s", "intent": "i", "awaiting": "a"}) == SlotPending("s", "i", "a")
    assert decode_pending({"kind": "confirm", "skill": "s", "action": "a", "nonce": "n"}) == ConfirmPending("s", "a",
                                                                                                             {}, "n")
    assert decode_pending({"kind": "clarify", "text": "t", "parse": None}) == ClarifyPending("t")
