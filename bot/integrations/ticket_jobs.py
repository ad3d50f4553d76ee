"""Following tickets: tell the employee when their ticket changes.

``TicketSync.observe`` compares a ticket with what the employee was last told
(the ``ticket_link`` row) and messages them about a new status or a new public
comment. Three paths feed it, and the stored state makes them agree, so a
change is told once: a change made through the bot, the Jira webhook
(``POST /jira/webhook``), and the polling job (JQL ``updated >= last check``)
for where webhooks cannot reach the bot.

The polling and the outbox retry are jobs on the shared scheduler, registered
with the bot's other jobs in ``bot.engine.housekeeping``; tests call
``poll_once`` and ``retry_due`` directly, or move the clock and ``run_due``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.messages import TECHNICIANS, Field, Reply, user_address
from bot.core.outbound import Deliverer
from bot.core.settings import Settings
from bot.integrations.tickets import TicketBackend, TicketView, valid_key
from bot.store import Database, TicketLink, TicketOutboxEntry, TicketSyncMark

__all__ = ["OUTBOX_EVERY", "Auditor", "TicketSync", "outbox_every"]

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


class Auditor(Protocol):
    """Where a queued request is written down (``bot.services.audit.AuditLog``)."""

    async def record(
        self, actor: str, action: str, *, target: str = "", outcome: str = "ok", detail: str = ""
    ) -> None:
        """Append one audit row."""
        ...


class TicketSync:
    """Tells employees about changes to the tickets the bot opened for them."""

    def __init__(
        self,
        tickets: TicketBackend,
        db: Database,
        clock: Callable[[], datetime],
        delivery: Deliverer,
        audit: Auditor,
        poll_interval: timedelta,
    ) -> None:
        """``poll_interval``: how far back the first poll reads (``HELPDESK_JIRA_POLL_INTERVAL``)."""
        self.tickets = tickets
        self.db = db
        self.clock = clock
        self.delivery = delivery
        self.audit = audit
        self.poll_interval = poll_interval

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
                .values(status=view.status, last_comment_id=view.last_comment_id, updated_at=self.clock())
            ).rowcount  # type: ignore[attr-defined]
            return (link, news) if changed == 1 else None

        found = await self.db.run(record)
        if found is None:
            return False
        link, news = found
        if not news or (actor and actor == link.reporter):
            return False
        fields = [Field("Status", view.status), Field("Assignee", view.assignee or "not assigned yet")]
        if view.url:
            fields.append(Field("Link", view.url))
        text = f"Update on your ticket {view.key} ({view.summary[:120]}):\n" + "\n".join(news)
        await self.delivery.deliver(Reply(text, fields=tuple(fields), to=user_address(link.reporter), private=True))
        return True

    async def filed(self, entry: TicketOutboxEntry, view: TicketView) -> None:
        """A queued request became a ticket: tell the employee its key, and the technicians."""
        link = f" {view.url}" if view.url else ""
        await self.delivery.deliver(Reply(
            f"Your request #{entry.id} (\"{view.summary[:120]}\") is now ticket {view.key}.{link} "
            "I'll tell you when a technician updates it.",
            to=user_address(entry.reporter), private=True,
        ))
        if self.delivery.connected:
            await self.delivery.deliver(Reply(
                f"New ticket {view.key} from {entry.reporter}: {view.summary} (filed from the outbox)",
                fields=(Field("Urgency", view.urgency),), to=TECHNICIANS,
            ))

    async def queued(self, entry: TicketOutboxEntry, system: str) -> None:
        """A request could not be filed now: it is audited, and the technicians hear of it at once (a phishing
        click cannot wait)."""
        await self.audit.record(entry.reporter, "ticket.queued", target=f"outbox #{entry.id}")
        if not self.delivery.connected:
            return
        payload = entry.payload
        await self.delivery.deliver(Reply(
            f"{system} is not answering, so request #{entry.id} from {entry.reporter} waits in the outbox "
            f"and will be filed when it is back: {str(payload.get('summary', ''))[:200]}",
            fields=(Field("Urgency", str(payload.get("urgency", "normal"))),), to=TECHNICIANS,
        ))

    async def poll_once(self) -> int:
        """Read the backend's changes since the last poll and tell employees; returns how many were told."""
        name = f"tickets:{self.tickets.kind}"
        started = self.clock()
        mark = await self.db.run(lambda s: s.exec(select(TicketSyncMark).where(TicketSyncMark.name == name))
                                     .first())
        since = (mark.checked_at if mark else started - self.poll_interval) - OVERLAP
        told = 0
        views = await self.tickets.updated_since(since, POLL_BATCH)
        for view in views:
            told += await self.observe(view)
        if len(views) >= POLL_BATCH and views[-1].updated_at is not None:
            started = views[-1].updated_at  # a full page: the next round goes on from the last change read

        def save(session: Session) -> None:
            row = session.exec(select(TicketSyncMark).where(TicketSyncMark.name == name)).first()
            row = row or TicketSyncMark(name=name, checked_at=started)
            row.checked_at = started
            session.add(row)

        await self.db.run(save)
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
        tracked = await self.db.run(lambda s: s.exec(select(TicketLink).where(TicketLink.key == key.upper()))
                                        .first())
        if tracked is None:
            return False
        view = await self.tickets.get(key)
        return False if view is None else await self.observe(view)


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value
