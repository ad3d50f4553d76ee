"""What flows through the engine: a ``Turn`` in, ``Reply`` parts out.

Both are plain data with no platform in them. A channel builds the Turn from
its own event and renders each Reply in its own way (Block Kit, Adaptive Cards,
plain text). A button click comes back as a Turn whose ``action`` is the
button's id, so the router treats a click the way it treats a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bot.core.address import TECHNICIANS, Person, Room, encode_address
from bot.core.parse import ParseResult

__all__ = [
    "TECHNICIANS",
    "Button",
    "Employee",
    "Field",
    "Form",
    "FormInput",
    "Reply",
    "Turn",
    "room_address",
    "user_address",
]

def user_address(email: str) -> str:
    """The address of an employee's private conversation with the bot."""
    return encode_address(Person(email.lower()))


def room_address(channel: str, conversation: str) -> str:
    """The address of a shared conversation (a Slack channel, a Teams channel) on one chat platform."""
    return encode_address(Room(channel, conversation))


@dataclass(frozen=True)
class Employee:
    """The person behind a chat user."""

    email: str
    display_name: str = ""
    department: str = ""
    is_technician: bool = False
    is_manager: bool = False
    """One of ``HELPDESK_MANAGERS``, who may see the helpdesk's figures."""

    @property
    def name(self) -> str:
        """The name to greet them with."""
        return self.display_name or self.email.split("@")[0]


@dataclass(frozen=True)
class Button:
    """A button. Its ``id`` comes back as ``Turn.action`` when it is clicked."""

    id: str
    label: str
    style: Literal["primary", "danger"] | None = None
    feedback: Literal["positive", "negative"] | None = None
    """Set on the two answers to "Did this help?", which a channel may show as its own feedback control."""


@dataclass(frozen=True)
class Field:
    """A label and a value, shown as a small table (a card's facts)."""

    label: str
    value: str


@dataclass(frozen=True)
class FormInput:
    """One input of a form: a Slack modal block, an Adaptive Card input, a console prompt.

    ``kind`` is ``text`` (one line), ``textarea``, ``choice`` (one of ``choices``),
    ``multichoice`` (several of ``choices``, submitted comma-separated), ``datetime``
    (free text such as "Sat 6am", read by the skill) or ``boolean`` ("yes"/"no").
    """

    name: str
    label: str
    kind: Literal["text", "textarea", "choice", "multichoice", "datetime", "boolean"] = "text"
    choices: tuple[tuple[str, str], ...] = ()
    optional: bool = False
    initial: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """A set of inputs filled in one go. Submitting it comes back as a Turn whose
    ``action`` is ``submit`` (an id like a button's) and whose ``form`` holds the values by input name."""

    submit: str
    title: str
    inputs: tuple[FormInput, ...]
    submit_label: str = "Preview"


@dataclass(frozen=True)
class Reply:
    """One message from the bot.

    ``to`` is ``None`` for the conversation the turn came from, ``TECHNICIANS``
    for the technicians' conversation, or ``user_address(email)`` for an
    employee's private chat. ``private`` asks the channel to show it to that
    one person only (ephemeral in Slack, personal chat in Teams). ``key`` names
    the message so that a later Reply with ``replaces=key`` updates it in place.
    ``form`` asks for several values at once (a modal in Slack, a card in Teams).
    ``thread`` is the ``key`` of an earlier message to answer under (a Slack
    thread, a Teams reply chain); a channel that cannot thread posts it as a
    plain message. ``mention`` asks the channel to page a shared conversation
    (``"channel"``, ``"everyone"`` or ``"here"``); the text itself never can,
    because announcement text is defused before it is sent. ``secret`` marks
    a private reply that holds a secret (a temporary password): the channel
    shows it so that it does not stay in the conversation's history (an
    ephemeral message in Slack, even in the direct chat).
    """

    text: str
    buttons: tuple[Button, ...] = ()
    fields: tuple[Field, ...] = ()
    to: str | None = None
    private: bool = False
    key: str | None = None
    replaces: str | None = None
    form: Form | None = None
    thread: str | None = None
    mention: Literal["channel", "everyone", "here"] | None = None
    secret: bool = False

    def addressed(self, to: str) -> Reply:
        """The same reply sent to ``to``."""
        return replace(self, to=to)


@dataclass
class Turn:
    """One thing a person did: a message, a click on one of our buttons, or a submitted form.

    A click or a form submission has ``action`` set; a submission also has ``form``
    (the values by input name, all strings). ``thread_id`` is the platform's own
    thread (a Slack thread ts); ``thread_key`` is the ``key`` of the bot message
    this message replies under, when the channel knows it (the router hands such
    a reply to the skill that owns the key). ``follow_up`` is the message alone when
    the router reads it together with the one before (``text`` is then both).
    """

    channel: str
    user_id: str
    conversation_id: str
    text: str = ""
    action: str | None = None
    event_id: str | None = None
    thread_id: str | None = None
    thread_key: str | None = None
    employee: Employee | None = None
    parse: ParseResult | None = None
    form: dict[str, str] | None = None
    raw: dict[str, object] = field(default_factory=dict)
    follow_up: str = ""

    @property
    def is_click(self) -> bool:
        """True when this turn is a button click."""
        return self.action is not None

    @property
    def request(self) -> str:
        """The part of the message the NLU read as the request (the whole text when it read all of it)."""
        part = str(self.parse.get("text") or "").strip() if self.parse else ""
        return part if part and part in self.text else self.text.strip()

    @property
    def email(self) -> str:
        """The employee's email; the identity service sets ``employee`` first."""
        if self.employee is None:
            raise RuntimeError("turn has no employee; resolve identity first")
        return self.employee.email
