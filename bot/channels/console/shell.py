"""The interactive terminal chat (rich). Replies render their Markdown; buttons show as numbers per conversation
(``1``, ``2`` … in your own, ``t1``, ``t2`` … in the technicians'), so a number always clicks in the conversation
it was shown in; a form is asked one input at a time."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bot.channels.console.channel import ConsoleChannel, Line
from bot.core.inbound import BadInput, clean_text
from bot.core.messages import TECHNICIANS
from bot.core.text import slack_markup_as_text
from bot.engine.host import ChannelHost
from bot.services.running import running_line

__all__ = ["fill_form", "run_interactive"]

HELP = (
    "Type a message and press Enter. Buttons are numbered per conversation: type 1, 2 … to click yours, "
    "t1, t2 … for the technicians' ones. /as EMAIL switches user (try a technician), /quit leaves."
)
TECHNICIANS_PREFIX = "t"
_CHOICE = re.compile(r"^(t?)([0-9]{1,6})$", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s")


def as_markdown(text: str) -> str:
    """A reply's text as Markdown that keeps its line breaks: each line stays a line, and a numbered or
    bulleted list is its own block (so the "Did this help?" after the steps is not read as part of step 4)."""
    lines: list[str] = []
    in_list = False
    for line in text.split("\n"):
        item = bool(_LIST_ITEM.match(line))
        if lines and lines[-1].strip() and line.strip():
            if item != in_list:
                lines.append("")  # a list starts or ends
            elif not item:
                lines[-1] += "  "  # a hard line break
        lines.append(line)
        in_list = item if line.strip() else in_list
    return "\n".join(lines)


def _owner(line: Line) -> str:
    """Whose buttons a line's are: the technicians', or the person it is addressed to."""
    return TECHNICIANS if line["to"] == TECHNICIANS else str(line["to"])


def _number(owner: str, index: int) -> str:
    """What to type to click the ``index``-th (from 1) button of ``owner``'s conversation."""
    return f"{TECHNICIANS_PREFIX}{index}" if owner == TECHNICIANS else str(index)


def _show(console: Console, line: Line, user: str, number_from: int) -> None:
    """Print one reply as a panel: its Markdown rendered, its buttons numbered within its conversation.

    Slack-style links and mentions are shown for what they are, and a link shows its address after its label,
    so a label typed by someone cannot hide where it goes.
    """
    where = "" if line["to"] == user else f" → {escape(line['to'])}"
    private = " (only you)" if line.get("private") else ""
    owner = _owner(line)
    buttons = Text()
    for offset, button in enumerate(line["buttons"]):
        buttons.append(f"\n  [{_number(owner, number_from + offset)}] ", style="bold")
        buttons.append(button["label"])
    style = "yellow" if owner == TECHNICIANS else "cyan"
    text = Markdown(as_markdown(slack_markup_as_text(line["text"])), hyperlinks=False)
    body = Group(text, buttons) if line["buttons"] else text
    console.print(Panel(body, title=f"helpdesk{where}{private}", title_align="left", border_style=style))


def _remember(lines: list[Line], user: str, console: Console, buttons: dict[str, list[str]]) -> None:
    """Show ``lines`` and keep, per conversation they went to, the buttons they offer (numbered from 1)."""
    fresh: dict[str, list[str]] = {}
    for line in lines:
        owned = fresh.setdefault(_owner(line), [])
        _show(console, line, user, len(owned) + 1)
        owned.extend(b["id"] for b in line["buttons"])
    buttons.update(fresh)


def _choice(text: str, user: str, buttons: dict[str, list[str]]) -> str | None:
    """The button id a typed number clicks (``2`` in the user's own conversation, ``t1`` the technicians'),
    or None when no button has that number (the text is then sent as a message)."""
    match = _CHOICE.match(text)
    if match is None:
        return None
    owned = buttons.get(TECHNICIANS if match.group(1) else user, [])
    index = int(match.group(2))
    return owned[index - 1] if 1 <= index <= len(owned) else None


def _prompt(item: dict[str, Any]) -> str:
    """The prompt for one form input: its label, its choices or hint, and its current value."""
    text = str(item["label"])
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


async def run_interactive(bot: ChannelHost, user: str, console: Console | None = None) -> None:
    """Chat in the terminal as ``user`` until /quit or end of input."""
    console = console or Console()
    channel = ConsoleChannel(bot)
    bot.add_channel(channel)
    console.print(f"[bold]civic-helpdesk[/bold]: {escape(running_line(bot))}", style="dim", highlight=False)
    console.print(f"You are [green]{user}[/green]. {HELP}")
    buttons: dict[str, list[str]] = {}
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
        chosen = _choice(text, user, buttons)
        try:
            lines = await channel.click(user, chosen) if chosen else await channel.say(user, clean_text(text))
        except BadInput as exc:  # a user id (/as) the bot cannot take
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            continue
        while True:
            _remember(lines, user, console, buttons)
            forms = [line["form"] for line in lines if line.get("form") and line["to"] == user]
            values = await fill_form(console, forms[-1]) if forms else None
            if values is None:
                break
            lines = await channel.submit(user, forms[-1]["submit"], values)
