"""``helpdesk announce``: create, list, report on and cancel announcements from a terminal.

The command never sends anything itself: it writes the announcement and its
job to the database, and the serving bot (``helpdesk run``) sends it, so a
terminal without chat credentials is enough. A broadcast to all staff still
needs a second technician: the bot posts the approval card to the technicians.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.app import Bot
from bot.core.errors import ConfigError
from bot.core.messages import Employee
from bot.core.settings import load_settings
from bot.core.text import neutralise_mentions
from bot.services.announcement_composer import KINDS, Draft, composer_inputs, read_composer
from bot.services.announcements import post_approval_job

__all__ = ["announce_app"]

announce_app = typer.Typer(help="Announcements: outages, maintenance, security notices.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _bot() -> Iterator[Bot]:
    """A bot on the configured database (migrated), with no channels and no NLU."""
    try:
        bot = Bot(load_settings())
        bot.db.migrate()
        bot.scheduler.start()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    try:
        yield bot
    finally:
        bot.close()


def _technician(bot: Bot, email: str, action: str) -> str:
    """``email`` if it is a technician's; otherwise audit the refusal and exit 1."""
    email = email.strip().lower()
    if not bot.settings.is_technician(email):
        asyncio.run(bot.audit.record(email, f"notices.{action}", outcome="refused",
                                     detail="helpdesk announce: requires the technician role"))
        what = "cancel notices" if action == "cancel" else "announce"
        err.print(f"[red]error:[/red] {escape(email)} is not a technician (HELPDESK_TECHNICIANS), so it cannot "
                  f"{what}. The attempt is in the audit log.")
        raise typer.Exit(1)
    return email


def _ask(label: str, kind: str, choices: tuple[tuple[str, str], ...], initial: str, hint: str,
         optional: bool) -> str:
    """One composer input as a terminal prompt."""
    if choices:
        label += " (" + ", ".join(value for value, _ in choices) + ")"
    elif hint:
        label += f" ({hint})"
    while True:
        answer = str(typer.prompt(label, default=initial, show_default=bool(initial))
                     if initial or not optional else typer.prompt(label, default="", show_default=False))
        if choices and answer not in dict(choices):
            err.print(f"Choose one of: {', '.join(value for value, _ in choices)}")
            continue
        if kind == "boolean" and answer.lower() not in ("yes", "no", "y", "n"):
            err.print("Answer yes or no.")
            continue
        return answer


@announce_app.command("create")
def create(
    author: Annotated[str, typer.Option("--as", help="The technician announcing (an email).")],
) -> None:
    """Compose an announcement at prompts, preview it, and hand it to the running bot to send."""
    with _bot() as bot:
        email = _technician(bot, author, "announce")
        values = {item.name: _ask(item.label, item.kind, item.choices, item.initial, item.hint, item.optional)
                  for item in composer_inputs({})}
        try:
            draft = read_composer(values, bot.clock(), bot.settings.timezone)
        except ValueError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))} Nothing was saved.")
            raise typer.Exit(1) from None
        console = Console()
        when = draft.cron or (bot.settings.local_time(draft.send_at) if draft.send_at else "now")
        audience = "all staff" if draft.audience["all"] else ", ".join(
            draft.audience["departments"] + draft.audience["groups"] + draft.audience["channels"])
        console.print(f"[bold]{escape(dict(KINDS)[draft.kind])}: {escape(neutralise_mentions(draft.title))}[/bold]\n"
                      f"{escape(neutralise_mentions(draft.body))}\nAudience: {escape(audience)}   Send: {when}")
        if not typer.confirm("Send this?", default=False):
            console.print("Nothing was sent; the draft is not kept.")
            raise typer.Exit(0)
        asyncio.run(_create(bot, draft, email, console))


async def _create(bot: Bot, draft: Draft, email: str, console: Console) -> None:
    row = await bot.announcements.save_draft(draft, email)
    announcement_id = int(row.id or 0)
    if bot.announcements.needs_approval(row):
        account = await bot.identity.account(email)
        if account is None:
            err.print("[red]error:[/red] a broadcast to all staff needs a second technician's approval, and the "
                      "bot must be able to tell you the decision: say hello to the bot in chat once, then retry. "
                      f"Notice #{announcement_id} is kept as a draft.")
            raise typer.Exit(1)
        employee = Employee(email=email, is_technician=True)
        approval = await bot.approvals.create(
            skill="notices", action="broadcast",
            summary=f"send notice #{announcement_id} to all staff: {neutralise_mentions(row.title)}",
            requester=employee, channel=account.channel,
            conversation=account.private_conversation or account.user_id,
            details=[("Kind", dict(KINDS)[row.kind]), ("Title", neutralise_mentions(row.title))],
            data=bot.announcements.approval_data(row), target=f"notice #{announcement_id}",
        )
        await bot.announcements.hold_for_approval(announcement_id)
        bot.scheduler.add_at(post_approval_job, bot.clock(), id=f"approval-card:{approval.id}",
                             args=(int(approval.id or 0),))
        await bot.audit.record(email, "notice.request", target=f"notice #{announcement_id}",
                               detail=f"approval #{approval.id}, from the command line")
        console.print(f"Notice #{announcement_id} waits for a second technician (approval #{approval.id}); "
                      "the running bot posts the card to the technicians.")
        return
    row = await bot.announcements.release(announcement_id, defer=True)
    await bot.audit.record(email, "notice.release", target=f"notice #{announcement_id}",
                           detail=f"{row.status}, from the command line")
    console.print(f"Notice #{announcement_id} is {row.status}; the running bot sends it "
                  f"{'on its schedule' if row.cron else 'at ' + bot.settings.local_time(row.send_at or bot.clock())}.")


@announce_app.command("list")
def list_(
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per announcement.")] = False,
) -> None:
    """The newest announcements and how far they got."""
    with _bot() as bot:
        rows = asyncio.run(bot.announcements.list(limit))
        if as_json:
            for row in rows:
                typer.echo(json.dumps({"id": row.id, "kind": row.kind, "title": row.title, "status": row.status,
                                       "send_at": row.send_at.isoformat() if row.send_at else None,
                                       "cron": row.cron, "sent": row.sent, "total": row.total}))
            return
        table = Table("id", "kind", "title", "status", "when", "sent")
        for row in rows:
            when = row.cron or (bot.settings.local_time(row.send_at) if row.send_at else "")
            table.add_row(str(row.id), row.kind, escape(row.title), row.status, when, f"{row.sent} of {row.total}")
        Console().print(table)


@announce_app.command("report")
def report(
    announcement_id: Annotated[int, typer.Argument(metavar="ID", help="The notice number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who acknowledged notice ID and who has not yet."""
    with _bot() as bot:
        found = asyncio.run(bot.announcements.report(announcement_id))
        if found is None:
            err.print(f"[red]error:[/red] there is no notice #{announcement_id}")
            raise typer.Exit(1)
        if as_json:
            typer.echo(json.dumps({"id": announcement_id, "acknowledged": found.acknowledged,
                                   "pending": found.pending}))
            return
        total = len(found.acknowledged) + len(found.pending)
        Console().print(f"Notice #{announcement_id} ({escape(found.announcement.title)}): "
                        f"{len(found.acknowledged)} of {total} have read it.")
        table = Table("employee", "read it")
        for email in found.acknowledged:
            table.add_row(email, "yes")
        for email in found.pending:
            table.add_row(email, "not yet")
        Console().print(table)


@announce_app.command("cancel")
def cancel(
    announcement_id: Annotated[int, typer.Argument(metavar="ID", help="The notice number.")],
    author: Annotated[str, typer.Option("--as", help="The technician cancelling (an email).")],
) -> None:
    """Cancel notice ID before it goes out (or stop a recurring one)."""
    with _bot() as bot:
        email = _technician(bot, author, "cancel")
        if not asyncio.run(bot.announcements.cancel(announcement_id, email)):
            err.print(f"[red]error:[/red] notice #{announcement_id} is not waiting to go out, so it can't be cancelled")
            raise typer.Exit(1)
        Console().print(f"Notice #{announcement_id} is cancelled.")
