"""The interactive terminal chat (rich). Buttons show as numbered choices."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.panel import Panel

from bot.app import Bot
from bot.channels.console import ConsoleChannel, Line

__all__ = ["run_interactive"]

HELP = (
    "Type a message and press Enter. Type a number to click a button. "
    "/as EMAIL switches user (try a technician), /quit leaves."
)


def _show(console: Console, line: Line, user: str, number_from: int) -> int:
    """Print one reply; return how many buttons it numbered."""
    where = "" if line["to"] == user else f" → {line['to']}"
    private = " (only you)" if line.get("private") else ""
    body = line["text"]
    for offset, button in enumerate(line["buttons"]):
        body += f"\n  [{number_from + offset}] {button['label']}"
    style = "yellow" if line["to"] == "technicians" else "cyan"
    console.print(Panel(body, title=f"helpdesk{where}{private}", title_align="left", border_style=style))
    return len(line["buttons"])


async def run_interactive(bot: Bot, user: str, console: Console | None = None) -> None:
    """Chat in the terminal as ``user`` until /quit or end of input."""
    console = console or Console()
    channel = ConsoleChannel(bot)
    bot.add_channel(channel)
    console.print(f"[bold]civic-helpdesk[/bold]: you are [green]{user}[/green]. {HELP}")
    choices: list[str] = []
    while True:
        try:
            raw = await asyncio.to_thread(console.input, f"[green]{user}[/green]> ")
        except (EOFError, KeyboardInterrupt):
            break
        text = raw.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text.startswith("/as "):
            user = text[4:].strip().lower()
            console.print(f"You are now [green]{user}[/green].")
            continue
        if text.isdigit() and 1 <= int(text) <= len(choices):
            lines = await channel.click(user, choices[int(text) - 1])
        else:
            lines = await channel.say(user, text)
        choices = []
        for line in lines:
            choices_before = len(choices)
            shown = _show(console, line, user, choices_before + 1)
            choices.extend(b["id"] for b in line["buttons"][:shown])
