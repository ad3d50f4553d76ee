"""Smaller leaks and oddities (issue 18, hole 8): the ticket-existence oracle, acknowledging a notice that does
not exist, bidirectional controls, and Slack markup in the console."""

from __future__ import annotations

import io

from rich.console import Console
from sqlmodel import select

from bot.app import Bot
from bot.channels.console.shell import _show
from bot.core.text import neutralise_bidi, slack_markup_as_text
from bot.store import Acknowledgement
from tests.support import Chat, button, texts

ANN, BOB = "ann@city.example", "bob@city.example"


async def test_someone_elses_ticket_and_a_missing_one_get_the_same_answer(chat: Chat) -> None:
    lines = await chat.say(ANN, "the copier on 3rd floor keeps jamming")
    await chat.click(ANN, button(lines, "Submit"))
    other = texts(await chat.say(BOB, "any update on HELP-1?"))
    missing = texts(await chat.say(BOB, "any update on HELP-99?"))
    assert other.replace("HELP-1", "HELP-N") == missing.replace("HELP-99", "HELP-N")
    assert "copier" not in other


async def test_acknowledging_a_notice_that_does_not_exist_stores_nothing(chat: Chat, bot: Bot) -> None:
    for number in ("424242", "0", "x"):
        lines = await chat.click(ANN, f"skill:notices:ack:{number}")
        assert "can't find that notice" in texts(lines) and lines[0]["private"]
    assert bot.db.call(lambda s: list(s.exec(select(Acknowledgement)).all())) == []


async def test_bidi_controls_reach_the_technicians_as_codes(chat: Chat) -> None:
    lines = await chat.say(ANN, "my laptop will not open the attachment invoice\u202efdp.exe from the vendor")
    lines = await chat.click(ANN, button(lines, "Submit"))
    technicians = texts(lines, to="technicians")
    assert "invoice[U+202E]fdp.exe" in technicians and "\u202e" not in texts(lines)


def test_every_bidi_control_is_neutralised() -> None:
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    assert neutralise_bidi(f"a{controls}b") == "a" + "".join(f"[U+{ord(c):04X}]" for c in controls) + "b"
    assert neutralise_bidi("plain عربي text") == "plain عربي text"


def test_slack_markup_is_shown_for_what_it_is_in_the_console() -> None:
    assert slack_markup_as_text("see <http://evil.example/login|the city portal>") == \
        "see the city portal (http://evil.example/login)"
    assert slack_markup_as_text("ask <@U0ADMIN> in <#C0GENERAL|general> <!here>") == "ask @U0ADMIN in #general @here"
    out = io.StringIO()
    line = {"to": "technicians", "text": "click <http://evil|here> [link=http://evil]now[/link] "
                                         "[the portal](http://evil.example/login)",
            "buttons": [{"id": "x", "label": "[bold]Take[/bold]"}], "private": False}
    _show(Console(file=out, width=200, color_system=None), line, ANN, 1)
    shown = out.getvalue()
    assert "here (http://evil)" in shown and "[link=http://evil]now[/link]" in shown
    assert "the portal (http://evil.example/login)" in shown
    assert "[bold]Take[/bold]" in shown
