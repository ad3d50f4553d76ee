"""The interactive terminal chat asks a form's inputs one at a time."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from sqlmodel import select

from bot.app import Bot
from bot.channels.shell import run_interactive
from bot.store import Announcement


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
