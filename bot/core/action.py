"""What a button (or a form's submit) does, as a typed value, and its one wire form.

A button's id travels through the chat platform (Slack's ``action_id`` and
``value``, a Teams card's data) and comes back as ``Turn.action``, so it is a
string: ``"intent:<name>"``, ``"approval:<id>:approve"``, ``"confirm:<nonce>:yes"``,
``"slot:<name>:<value>"`` or ``"skill:<skill>:<action>:<argument>"``.
``encode_action`` and ``decode_action`` are the only places that know that form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.inbound import record_id

__all__ = [
    "Action",
    "Answer",
    "Choose",
    "Decide",
    "SkillClick",
    "StartIntent",
    "decode_action",
    "encode_action",
]


@dataclass(frozen=True)
class StartIntent:
    """Start ``intent`` as if the person had asked for it."""

    intent: str


@dataclass(frozen=True)
class Decide:
    """A technician's verdict on approval request ``approval``."""

    approval: int
    verdict: Literal["approve", "deny"]


@dataclass(frozen=True)
class Answer:
    """Yes or no to the open question asked with ``nonce``."""

    nonce: str
    yes: bool


@dataclass(frozen=True)
class Choose:
    """``value`` picked for the slot ``slot`` the bot is waiting for."""

    slot: str
    value: str


@dataclass(frozen=True)
class SkillClick:
    """A click handed to skill ``skill``'s ``on_click`` with ``action`` and ``argument``."""

    skill: str
    action: str
    argument: str = ""


Action = StartIntent | Decide | Answer | Choose | SkillClick
"""What a button does."""


def encode_action(action: Action) -> str:
    """The button id (wire form) of ``action``."""
    match action:
        case StartIntent(intent):
            return f"intent:{intent}"
        case Decide(approval, verdict):
            return f"approval:{approval}:{verdict}"
        case Answer(nonce, yes):
            return f"confirm:{nonce}:{'yes' if yes else 'no'}"
        case Choose(slot, value):
            return f"slot:{slot}:{value}"
        case SkillClick(skill, name, argument):
            return f"skill:{skill}:{name}:{argument}"


def decode_action(text: str) -> Action | None:
    """The action whose button id is ``text``, or None when it is no button of ours (an old or forged id)."""
    kind, _, rest = text.partition(":")
    if kind == "intent":
        return StartIntent(rest)
    if kind == "approval":
        number, _, verdict = rest.partition(":")
        approval = record_id(number)
        if approval is None:
            return None
        if verdict == "approve":
            return Decide(approval, "approve")
        if verdict == "deny":
            return Decide(approval, "deny")
        return None
    if kind == "confirm":
        nonce, _, answer = rest.partition(":")
        return Answer(nonce, answer == "yes")
    if kind == "slot":
        slot, _, value = rest.partition(":")
        return Choose(slot, value)
    if kind == "skill":
        skill, _, payload = rest.partition(":")
        name, _, argument = payload.partition(":")
        return SkillClick(skill, name, argument)
    return None
