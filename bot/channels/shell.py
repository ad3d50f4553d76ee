"""The interactive terminal chat (rich). Buttons show as numbered choices; a form is asked one input at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.app import Bot
from bot.channels.console import ConsoleChannel, Line
from bot.startup import running_line

__all__ = ["fill_form", "run_interactive"]

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


def _prompt(item: dict[str, Any]) -> str:
    """The prompt for one form input: its label, its choices or hint, and its current value."""
    text = item["label"]
    if item["choices"]:
        text += " (" + ", ".join(value for value, _ in item["choices"]) + ")"
    elif item["kind"] == "boolean":
        text += " (yes/no)"
    elif item["hint"]:
        text += f" ({item['hint']})"
    if item["initial"]:
        text += f" [{item['initial']}]"
    return text + ("" if not item["optional"] else " (optional)") + ": "


async def fill_form(console: Console, form: dict[str, Any]) -> dict[str, str] | None:
    """Ask for each input of ``form`` in turn; Enter keeps the shown value, /cancel drops the form."""
    console.print(f"[bold]{escape(form['title'])}[/bold]: Enter keeps the value in \\[brackets]; /cancel stops.")
    values: dict[str, str] = {}
    for item in form["inputs"]:
        while True:
            try:
                raw = (await asyncio.to_thread(console.input, escape(_prompt(item)))).strip()
            except (EOFError, KeyboardInterrupt):
                return None
            if raw == "/cancel":
                return None
            answer = raw or item["initial"]
            allowed = [value for value, _ in item["choices"]]
            if item["kind"] == "choice" and allowed and answer not in allowed:
                console.print(f"Choose one of: {', '.join(allowed)}")
                continue
            if not answer and not item["optional"] and item["kind"] != "boolean":
                console.print("This one is needed.")
                continue
            values[item["name"]] = answer
            break
    return values


async def run_interactive(bot: Bot, user: str, console: Console | None = None) -> None:
    """Chat in the terminal as ``user`` until /quit or end of input."""
    console = console or Console()
    channel = ConsoleChannel(bot)
    bot.add_channel(channel)
    console.print(f"[bold]civic-helpdesk[/bold]: {escape(running_line(bot))}", style="dim", highlight=False)
    console.print(f"You are [green]{user}[/green]. {HELP}")
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
        while True:
            choices = []
            for line in lines:
                choices_before = len(choices)
                shown = _show(console, line, user, choices_before + 1)
                choices.extend(b["id"] for b in line["buttons"][:shown])
            forms = [line["form"] for line in lines if line.get("form") and line["to"] == user]
            values = await fill_form(console, forms[-1]) if forms else None
            if values is None:
                break
            lines = await channel.submit(user, forms[-1]["submit"], values)
