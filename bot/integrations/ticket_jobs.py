"""Following tickets: tell the employee when their ticket changes, and the two jobs that keep it so.

``TicketSync.observe`` compares a ticket with what the employee was last told
(the ``ticket_link`` row) and messages them about a new status or a new public
comment. Three paths feed it, and the stored state makes them agree, so a
change is told once: a change made through the bot, the Jira webhook
(``POST /jira/webhook``), and the polling job (JQL ``updated >= last check``)
for where webhooks cannot reach the bot. The outbox retry is the other job.

The jobs are top-level functions on the shared scheduler
(``bot.services.scheduler``), so one replica fires each round; tests call
``poll_once`` and ``retry_due`` directly, or move the clock and ``run_due``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.integrations.tickets import TicketView, valid_key
from bot.core.messages import TECHNICIANS, Field, Reply, user_address
from bot.core.settings import Settings
from bot.store import TicketLink, TicketOutboxEntry, TicketSyncMark

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.services.scheduler import JobRun

__all__ = ["OUTBOX_EVERY", "TicketSync", "outbox_every", "poll_tickets", "retry_ticket_outbox",
           "schedule_ticket_jobs"]

log = logging.getLogger(__name__)

OUTBOX_EVERY = timedelta(seconds=30)
POLL_BATCH = 100
OVERLAP = timedelta(minutes=1)
"""JQL dates have minute precision: each poll reads one minute back (the stored state drops repeats)."""


def outbox_every(settings: Settings) -> timedelta:
    """How often the outbox is retried (and a backend that is down asked again): 30 s, or
    ``HELPDESK_TICKET_RETRY_MAX`` when that is shorter (at least 1 s), so no round is later than the longest
    backoff."""
    return max(timedelta(seconds=1), min(OUTBOX_EVERY, settings.ticket_retry_max))


class TicketSync:
    """Tells employees about changes to the tickets the bot opened for them."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def observe(self, view: TicketView, actor: str = "") -> bool:
        """Compare ``view`` with what the reporter was last told; tell them what changed. True if told."""
        def record(session: Session) -> tuple[TicketLink, list[str]] | None:
            link = session.exec(select(TicketLink).where(TicketLink.key == view.key)).first()
            if link is None:
                return None
            news: list[str] = []
            if view.status and link.status and view.status != link.status:
                news.append(f"Status: {link.status} → {view.status}")
            fresh_comment = bool(view.last_comment_id) and view.last_comment_id != link.last_comment_id
            if fresh_comment and view.last_comment_by != link.reporter:
                news.append(f"New comment from {view.last_comment_by or 'IT'}: {(view.last_comment or '')[:500]}")
            if not news and not fresh_comment and view.status == link.status:
                return None
            # Compare-and-set: when the webhook and the poll see one change at once, one of them tells it.
            changed = session.execute(
                update(TicketLink)
                .where(col(TicketLink.id) == link.id, col(TicketLink.status) == link.status,
                       _same(col(TicketLink.last_comment_id), link.last_comment_id))
                .values(status=view.status, last_comment_id=view.last_comment_id, updated_at=self.bot.clock())
            ).rowcount  # type: ignore[attr-defined]
            return (link, news) if changed == 1 else None

        found = await self.bot.db.run(record)
        if found is None:
            return False
        link, news = found
        if not news or (actor and actor == link.reporter):
            return False
        fields = [Field("Status", view.status), Field("Assignee", view.assignee or "not assigned yet")]
        if view.url:
            fields.append(Field("Link", view.url))
        text = f"Update on your ticket {view.key} ({view.summary[:120]}):\n" + "\n".join(news)
        await self.bot.deliver(Reply(text, fields=tuple(fields), to=user_address(link.reporter), private=True))
        return True

    async def filed(self, entry: TicketOutboxEntry, view: TicketView) -> None:
        """A queued request became a ticket: tell the employee its key, and the technicians."""
        link = f" {view.url}" if view.url else ""
        await self.bot.deliver(Reply(
            f"Your request #{entry.id} (\"{view.summary[:120]}\") is now ticket {view.key}.{link} "
            "I'll tell you when a technician updates it.",
            to=user_address(entry.reporter), private=True,
        ))
        if self.bot.channels:
            await self.bot.deliver(Reply(
                f"New ticket {view.key} from {entry.reporter}: {view.summary} (filed from the outbox)",
                fields=(Field("Urgency", view.urgency),), to=TECHNICIANS,
            ))

    async def queued(self, entry: TicketOutboxEntry, system: str) -> None:
        """A request could not be filed now: it is audited, and the technicians hear of it at once (a phishing
        click cannot wait)."""
        await self.bot.audit.record(entry.reporter, "ticket.queued", target=f"outbox #{entry.id}")
        if not self.bot.channels:
            return
        payload = entry.payload
        await self.bot.deliver(Reply(
            f"{system} is not answering, so request #{entry.id} from {entry.reporter} waits in the outbox "
            f"and will be filed when it is back: {str(payload.get('summary', ''))[:200]}",
            fields=(Field("Urgency", str(payload.get("urgency", "normal"))),), to=TECHNICIANS,
        ))

    async def poll_once(self) -> int:
        """Read the backend's changes since the last poll and tell employees; returns how many were told."""
        name = f"tickets:{self.bot.tickets.kind}"
        started = self.bot.clock()
        mark = await self.bot.db.run(lambda s: s.exec(select(TicketSyncMark).where(TicketSyncMark.name == name))
                                     .first())
        since = (mark.checked_at if mark else started - self.bot.settings.jira_poll_interval) - OVERLAP
        told = 0
        views = await self.bot.tickets.updated_since(since, POLL_BATCH)
        for view in views:
            told += await self.observe(view)
        if len(views) >= POLL_BATCH and views[-1].updated_at is not None:
            started = views[-1].updated_at  # a full page: the next round goes on from the last change read

        def save(session: Session) -> None:
            row = session.exec(select(TicketSyncMark).where(TicketSyncMark.name == name)).first()
            row = row or TicketSyncMark(name=name, checked_at=started)
            row.checked_at = started
            session.add(row)

        await self.bot.db.run(save)
        return told

    async def handle_webhook(self, payload: dict[str, Any]) -> bool:
        """A Jira webhook event: re-read the issue it names and tell its reporter. ValueError if malformed.

        The event is only a doorbell: what the employee is told comes from the
        issue as Jira has it now, so a replayed or forged-looking body cannot
        make the bot say something Jira does not.
        """
        issue = payload.get("issue")
        key = issue.get("key") if isinstance(issue, dict) else None
        if not isinstance(key, str) or valid_key(key) is None:
            raise ValueError("the event has no issue key")
        tracked = await self.bot.db.run(lambda s: s.exec(select(TicketLink).where(TicketLink.key == key.upper()))
                                        .first())
        if tracked is None:
            return False
        view = await self.bot.tickets.get(key)
        return False if view is None else await self.observe(view)


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


async def poll_tickets(bot: Bot, run: JobRun) -> None:
    """Job: one polling round (errors are logged; the next round tries again)."""
    try:
        await bot.tickets_sync.poll_once()
    except Exception as exc:  # a job must not die; the log says why
        log.warning("ticket polling failed: %s", exc)


async def retry_ticket_outbox(bot: Bot, run: JobRun) -> None:
    """Job: file the queued ticket requests whose time has come."""
    try:
        await bot.ticket_outbox.retry_due()
    except Exception as exc:
        log.warning("ticket outbox retry failed: %s", exc)


def schedule_ticket_jobs(bot: Bot) -> None:
    """Put the outbox retry and (for Jira) the polling job on the shared scheduler.

    They are interval jobs in the database, so with several replicas only one
    fires each round (the scheduler's claim). Calling this again at every start
    replaces the jobs with the current settings.
    """
    bot.scheduler.add_interval(retry_ticket_outbox, outbox_every(bot.settings).total_seconds(), id="tickets.outbox")
    interval = bot.settings.jira_poll_interval.total_seconds()
    if bot.tickets.kind != "builtin" and interval > 0:
        bot.scheduler.add_interval(poll_tickets, interval, id="tickets.poll")
    else:
        bot.scheduler.remove("tickets.poll")
