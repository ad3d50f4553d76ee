"""The console channel: a terminal chat for trying the bot, and ``--jsonl`` for scripts and tests.

Every reply becomes one line ``{"to", "text", "buttons", "private"}``. Replies
to the technicians' conversation have ``"to": "technicians"``; private messages
to an employee have their email. A message that replaces an earlier one also
carries ``"replaces"`` (the key of the message it updates); one posted in
the thread of an earlier message carries ``"thread"`` (that message's key), and
one that pages a shared conversation carries ``"mention"``. A reply that asks
for a form carries ``"form": {"submit", "title", "inputs": [...]}``; it is
answered with ``{"user", "submit": ID, "values": {...}}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import IO, Any

from bot.core.address import Person, decode_address
from bot.core.inbound import BadInput, clean_action, clean_form, clean_id, clean_text, loads
from bot.core.messages import TECHNICIANS, Form, Reply, Turn
from bot.engine.host import ChannelHost

__all__ = ["ConsoleChannel", "render_text", "run_jsonl"]

log = logging.getLogger(__name__)

Line = dict[str, Any]


def render_text(reply: Reply) -> str:
    """The reply as plain text: the text, then one ``Label: value`` line per field."""
    lines = [reply.text] + [f"{f.label}: {f.value}" for f in reply.fields]
    return "\n".join(line for line in lines if line)


class ConsoleChannel:
    """Collects the bot's replies as JSON-able lines; ``say`` and ``click`` act as a user."""

    name = "console"

    def __init__(self, bot: ChannelHost, on_line: Callable[[Line], None] | None = None) -> None:
        self.bot = bot
        self.on_line = on_line
        self.lines: list[Line] = []
        self.last_turn: Turn | None = None
        """The newest turn handled, with the parse the router made of it (``helpdesk test`` reads its intent)."""
        self._shown_in: dict[str, str] = {}

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Record the reply as one output line."""
        to = reply.to or (origin.conversation_id if origin else TECHNICIANS)
        address = decode_address(to)
        to = address.email if isinstance(address, Person) else to
        line: Line = {
            "to": to,
            "text": render_text(reply),
            "buttons": [{"id": b.id, "label": b.label} for b in reply.buttons],
            "private": reply.private,
        }
        if reply.key:
            line["key"] = reply.key
        if reply.replaces:
            line["replaces"] = reply.replaces
        if reply.thread:
            line["thread"] = reply.thread
        if reply.mention:
            line["mention"] = reply.mention
        if reply.form is not None:
            line["form"] = form_line(reply.form)
            self._shown_in[reply.form.submit] = to
        for button in reply.buttons:
            self._shown_in[button.id] = to
        self.lines.append(line)
        if self.on_line is not None:
            self.on_line(line)

    async def say(self, user: str, text: str, conversation: str | None = None) -> list[Line]:
        """``user`` sends ``text``; returns the replies it caused."""
        turn = await self._turn(user, conversation)
        turn.text = text
        return await self._handle(turn)

    async def click(self, user: str, button_id: str) -> list[Line]:
        """``user`` clicks the button ``button_id``; returns the replies it caused."""
        turn = await self._turn(user, self._shown_in.get(button_id))
        turn.action = button_id
        return await self._handle(turn)

    async def submit(self, user: str, form_id: str, values: dict[str, str]) -> list[Line]:
        """``user`` submits the form ``form_id`` with ``values``; returns the replies it caused."""
        turn = await self._turn(user, self._shown_in.get(form_id))
        turn.action = form_id
        turn.form = {str(name): str(value) for name, value in values.items()}
        return await self._handle(turn)

    async def _turn(self, user: str, conversation: str | None) -> Turn:
        email = clean_id(user, "the user").lower()
        employee = await self.bot.identity.resolve(self.name, email, email=email, private_conversation=email)
        return Turn(channel=self.name, user_id=email, conversation_id=conversation or email, employee=employee)

    async def _handle(self, turn: Turn) -> list[Line]:
        start = len(self.lines)
        self.last_turn = turn
        await self.bot.handle(turn)
        return self.lines[start:]


def form_line(form: Form) -> dict[str, Any]:
    """A form as JSON: its submit id, title, submit label and inputs."""
    return {
        "submit": form.submit,
        "title": form.title,
        "submit_label": form.submit_label,
        "inputs": [
            {"name": i.name, "label": i.label, "kind": i.kind, "choices": [list(c) for c in i.choices],
             "optional": i.optional, "initial": i.initial, "hint": i.hint}
            for i in form.inputs
        ],
    }


Request = tuple[str, str, str, str | None, dict[str, str]]


def _read_request(raw: str) -> Request:
    """Validate one JSONL input line: returns (user, kind, value, conversation, form values).

    Raises ``BadInput`` (a ValueError) with what is wrong: not JSON, nested too deep, a field of the wrong
    type, an id with control characters or a number no record can have.
    """
    data = loads(raw)
    if not isinstance(data, dict):
        raise BadInput('each line must be an object like {"user": EMAIL, "text": "..."}')
    user = data.get("user")
    if not isinstance(user, str) or "@" not in user:
        raise BadInput('"user" must be an email address')
    user = clean_id(user, '"user"')
    conversation = data.get("conversation")
    if conversation is not None:
        conversation = clean_id(conversation, '"conversation"')
    if isinstance(data.get("submit"), str):
        values = data.get("values", {})
        if not isinstance(values, dict):
            raise BadInput('"values" must be an object of input name to text')
        return user, "submit", clean_action(data["submit"]), conversation, clean_form(values)
    if isinstance(data.get("click"), str):
        return user, "click", clean_action(data["click"]), conversation, {}
    if isinstance(data.get("text"), str):
        text = clean_text(data["text"])
        if not text.strip():
            raise BadInput('"text" is empty')
        return user, "text", text, conversation, {}
    raise BadInput('each line needs "text" (a string), "click" (a button id) or "submit" (a form id)')


async def run_jsonl(bot: ChannelHost, stdin: IO[str], stdout: IO[str]) -> None:
    """Read requests line by line from ``stdin``; write one reply per line, flushed after each input.

    A bad line gets ``{"error": "line N: ..."}``, and so does a line whose handling failed: the session goes on.
    """

    def write(line: Line) -> None:
        stdout.write(json.dumps(line, ensure_ascii=False) + "\n")

    console = ConsoleChannel(bot, on_line=write)
    bot.add_channel(console)
    for number, raw in enumerate(iter(stdin.readline, ""), start=1):
        if not raw.strip():
            continue
        try:
            user, kind, value, conversation, values = _read_request(raw)
            if kind == "submit":
                await console.submit(user, value, values)
            elif kind == "click":
                await console.click(user, value)
            else:
                await console.say(user, value, conversation)
        except BadInput as exc:
            write({"error": f"line {number}: {exc}"})
        except Exception:
            log.exception("line %d of the JSON-lines input failed", number)
            write({"error": f"line {number}: something went wrong on the bot's side handling this line; "
                            "nothing more was done with it"})
        stdout.flush()
