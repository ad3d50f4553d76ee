"""The interactive terminal chat asks a form's inputs one at a time."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from sqlmodel import select

from bot.app import Bot
from bot.channels.console.shell import run_interactive
from bot.store import Announcement, Approval


class TypingConsole(Console):
    """A terminal whose keyboard is a list of lines."""

    def __init__(self, typed: list[str]) -> None:
        super().__init__(file=io.StringIO(), width=120, color_system=None)
        self.typed = list(typed)

    def input(self, prompt: Any = "", **_: Any) -> str:  # type: ignore[override]
        self.print(prompt, end="")
        if not self.typed:
            raise EOFError
        answer = self.typed.pop(0)
        self.print(answer)
        return answer

    @property
    def output(self) -> str:
        """Everything printed so far."""
        assert isinstance(self.file, io.StringIO)
        return self.file.getvalue()


async def test_a_form_is_asked_input_by_input(bot: Bot) -> None:
    """Enter keeps the prefilled value; a bad choice is asked again; the preview follows."""
    keep = [""]
    typed = (["announce email maintenance Saturday 6am to 10am"]
             + keep * 6 + ["some", "listed"] + keep * 2 + ["general"] + keep * 3 + ["/quit"])
    console = TypingConsole(typed)
    await run_interactive(bot, "tom@city.example", console)
    assert "Kind (outage, maintenance, security, general) [maintenance]" in console.output
    assert "Choose one of: all, listed" in console.output
    assert "Preview of notice #1" in console.output and "Title: Email maintenance" in console.output
    [row] = bot.db.call(lambda s: list(s.exec(select(Announcement)).all()))
    assert row.audience["channels"] == ["general"] and row.status == "draft"


async def test_cancel_drops_the_form(bot: Bot) -> None:
    """/cancel at any input leaves nothing behind."""
    console = TypingConsole(["announce vpn upgrade", "", "/cancel", "/quit"])
    await run_interactive(bot, "tom@city.example", console)
    assert bot.db.call(lambda s: list(s.exec(select(Announcement)).all())) == []


async def test_buttons_are_numbered_per_conversation_and_markdown_is_rendered(bot: Bot) -> None:
    """The self-service guide's buttons are [1] and [2], the employee's Yes is [3] and the technicians' Approve
    is [t1]: each number clicks in its own conversation, so the employee's 3 never reaches the technicians'
    card; replies show no raw Markdown."""
    console = TypingConsole(["I forgot my password", "3", "1", "/as tom@city.example", "t1", "/quit"])
    await run_interactive(bot, "employee@city.example", console)
    output = console.output
    assert "[1] That fixed it" in output and "[3] Yes" in output and "[4] No" in output
    assert "[t1] Approve" in output and "[t2] Deny" in output
    assert "Approved by tom@city.example" in output
    [approval] = bot.db.call(lambda s: list(s.exec(select(Approval)).all()))
    assert approval.status == "approved" and approval.decided_by == "tom@city.example"
    console = TypingConsole(["how do I connect to the VPN from home", "/quit"])
    await run_interactive(bot, "employee@city.example", console)
    assert "Connect to the VPN from home" in console.output
    assert "*Connect to the VPN" not in console.output and "**" not in console.output
