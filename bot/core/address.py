"""Where a reply goes, as a typed value, and its one wire form.

A ``Reply.to`` and a stored recipient (``delivery.recipient``) carry an address
as a string: ``"user:<email>"`` for an employee's private chat,
``"room:<channel>:<conversation>"`` for a shared conversation on one platform,
``"technicians"`` for the technicians' conversation, and anything else for a
conversation the channel in hand knows by its own id. ``encode_address`` and
``decode_address`` are the only places that know those prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TECHNICIANS",
    "Address",
    "Conversation",
    "Person",
    "Room",
    "Technicians",
    "decode_address",
    "encode_address",
]

TECHNICIANS = "technicians"
"""The wire form of the technicians' conversation, whatever the platform."""

_USER = "user:"
_ROOM = "room:"


@dataclass(frozen=True)
class Person:
    """An employee's private conversation with the bot, on whichever platform they use."""

    email: str


@dataclass(frozen=True)
class Room:
    """A shared conversation (a Slack channel, a Teams channel) on the chat platform named ``channel``."""

    channel: str
    conversation: str


@dataclass(frozen=True)
class Technicians:
    """The technicians' conversation, whatever the platform."""


@dataclass(frozen=True)
class Conversation:
    """A conversation the channel in hand knows by its own id (a Slack channel id, a Teams conversation id)."""

    id: str


Address = Person | Room | Technicians | Conversation
"""Where a reply goes."""


def encode_address(address: Address) -> str:
    """The wire and database form of ``address``."""
    match address:
        case Person(email):
            return f"{_USER}{email}"
        case Room(channel, conversation):
            return f"{_ROOM}{channel}:{conversation}"
        case Technicians():
            return TECHNICIANS
        case Conversation(conversation):
            return conversation


def decode_address(text: str) -> Address:
    """The address written as ``text`` (the inverse of ``encode_address``)."""
    if text.startswith(_USER):
        return Person(text.removeprefix(_USER))
    if text.startswith(_ROOM):
        channel, _, conversation = text.removeprefix(_ROOM).partition(":")
        return Room(channel, conversation)
    if text == TECHNICIANS:
        return Technicians()
    return Conversation(text)
