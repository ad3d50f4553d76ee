"""Addresses and button ids: one codec each, and the wire form stays what is stored and sent today."""

from __future__ import annotations

import pytest

from bot.core.action import Answer, Choose, Decide, SkillClick, StartIntent, decode_action, encode_action
from bot.core.address import Conversation, Person, Room, Technicians, decode_address, encode_address
from bot.core.messages import TECHNICIANS, room_address, user_address


@pytest.mark.parametrize(("address", "wire"), [
    (Person("ann@city.example"), "user:ann@city.example"),
    (Room("slack", "C0123"), "room:slack:C0123"),
    (Room("teams", "19:abc@thread.tacv2"), "room:teams:19:abc@thread.tacv2"),
    (Technicians(), "technicians"),
    (Conversation("D0456"), "D0456"),
])
def test_address_round_trip(address: object, wire: str) -> None:
    assert encode_address(address) == wire  # type: ignore[arg-type]
    assert decode_address(wire) == address


def test_address_helpers_keep_their_form() -> None:
    assert user_address("Ann@City.Example") == "user:ann@city.example"
    assert room_address("slack", "C0123") == "room:slack:C0123"
    assert TECHNICIANS == "technicians"


@pytest.mark.parametrize(("action", "wire"), [
    (StartIntent("open_ticket"), "intent:open_ticket"),
    (Decide(12, "approve"), "approval:12:approve"),
    (Decide(12, "deny"), "approval:12:deny"),
    (Answer("ab12cd34", yes=True), "confirm:ab12cd34:yes"),
    (Answer("ab12cd34", yes=False), "confirm:ab12cd34:no"),
    (Choose("system", "vpn:eu"), "slot:system:vpn:eu"),
    (SkillClick("notices", "ack", "7"), "skill:notices:ack:7"),
    (SkillClick("howto", "ask"), "skill:howto:ask:"),
    (SkillClick("kb", "article", "a:b"), "skill:kb:article:a:b"),
])
def test_action_round_trip(action: object, wire: str) -> None:
    assert encode_action(action) == wire  # type: ignore[arg-type]
    assert decode_action(wire) == action


@pytest.mark.parametrize("wire", ["", "nonsense", "approval:x:approve", "approval:0:approve", "approval:3:maybe",
                                  "approval:3"])
def test_unknown_or_forged_ids_decode_to_none(wire: str) -> None:
    assert decode_action(wire) is None
