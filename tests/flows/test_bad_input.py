"""Inputs that used to end the console session or answer "Something went wrong" (issue 18, hole 5).

Each runs through ``run_jsonl`` on SQLite and PostgreSQL: the bad line gets a
clear answer and the next line is still answered.
"""

from __future__ import annotations

import io
import json
from typing import Any

from sqlmodel import select

from bot.app import Bot
from bot.channels.console.channel import run_jsonl
from bot.store import Ticket
from tests.support import Chat, button, texts

ANN, TOM = "ann@city.example", "tom@city.example"
HELLO = json.dumps({"user": ANN, "text": "hi"})


async def session(bot: Bot, *lines: str) -> list[dict[str, Any]]:
    """Run ``lines`` (then a hello) through ``helpdesk shell --jsonl``; every output line parsed."""
    out = io.StringIO()
    await run_jsonl(bot, io.StringIO("\n".join([*lines, HELLO]) + "\n"), out)
    answered = [json.loads(line) for line in out.getvalue().splitlines()]
    assert "Hi ann" in answered[-1]["text"], answered  # the session went on
    return answered


async def test_an_approval_id_out_of_range_is_an_error_line(bot: Bot) -> None:
    """``approval:99999999999999999999:approve`` overflowed the integer column and ended the session."""
    out = await session(bot, json.dumps({"user": TOM, "click": "approval:99999999999999999999:approve"}),
                        json.dumps({"user": TOM, "click": "approval:2147483648:deny"}))
    assert [line.get("error", "")[:7] for line in out[:2]] == ["line 1:", "line 2:"]


async def test_an_approval_that_does_not_exist_is_not_done(bot: Bot) -> None:
    out = await session(bot, json.dumps({"user": TOM, "click": "approval:2147483647:approve"}))
    assert "Not done" in out[0]["text"]


async def test_json_nested_100000_deep_is_an_error_line(bot: Bot) -> None:
    """A RecursionError in the JSON parser used to end the session."""
    deep = '{"user": "ann@city.example", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    out = await session(bot, deep, '{"user": "ann@city.example", "text": ' + "[" * 40 + "]" * 40 + "}")
    assert out[0] == {"error": "line 1: nested deeper than 32 levels"}
    assert out[1] == {"error": "line 2: nested deeper than 32 levels"}


async def test_a_user_id_with_a_nul_byte_is_an_error_line(bot: Bot) -> None:
    """PostgreSQL refuses NUL in text; the id is refused before anything is looked up."""
    out = await session(bot, json.dumps({"user": "a\u0000nn@city.example", "text": "hi"}),
                        json.dumps({"user": "ann@city.example", "text": "hi", "conversation": "x\u0000"}))
    assert out[0] == {"error": 'line 1: "user" contains control characters'}
    assert out[1] == {"error": 'line 2: "conversation" contains control characters'}


async def test_nul_and_lone_surrogates_in_a_question_are_answered(bot: Bot) -> None:
    """A how-to question with NUL and a lone surrogate gets its article, not "Something went wrong"."""
    out = await session(bot, json.dumps({"user": ANN, "text": "how do I connect to the vpn\u0000 from home \ud800"}))
    assert "VPN" in out[0]["text"] and "went wrong" not in texts(out)


async def test_nul_and_lone_surrogates_in_a_ticket_are_stored_clean(chat: Chat, bot: Bot) -> None:
    lines = await chat.say(ANN, "the copier on the 3rd floor\u0000 keeps jamming \udc80 again")
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert "HELP-1" in texts(lines)
    [ticket] = bot.db.call(lambda s: list(s.exec(select(Ticket))))
    assert "\x00" not in ticket.description and "\ufffd" in ticket.description


async def test_a_form_with_nul_values_is_cleaned(chat: Chat, bot: Bot) -> None:
    await chat.say(ANN, "the printer on 2 is broken")
    assert "went wrong" not in texts(await chat.submit(ANN, "ticket-form:x", {"summary": "a\u0000b\ud800"}))
