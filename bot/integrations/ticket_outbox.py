"""The outbox in front of the ticket backend: a request is written down before the backend is called.

When the backend is down, slow or rate limiting, the request waits in the
``ticket_outbox`` table and ``retry_due`` files it later, with backoff. Each
request carries a unique id that the backend stores on the ticket (a Jira
label), and a retry looks it up before it creates anything, so a crash
between "created in Jira" and "recorded here" never files a second ticket.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.errors import IntegrationError, TicketBackendUnavailable, TicketQueued
from bot.integrations.tickets import TicketBackend, TicketView
from bot.store import Database, TicketOutboxEntry

__all__ = ["TicketOutbox", "backoff"]

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
"""How long one attempt may hold an entry before another replica may try it."""

FiledHook = Callable[[TicketOutboxEntry, TicketView], Awaitable[None]]
ChangeHook = Callable[[TicketView, str], Awaitable[Any]]
QueuedHook = Callable[[TicketOutboxEntry, str], Awaitable[None]]


def backoff(attempts: int, ceiling: timedelta) -> timedelta:
    """Wait before the next try: 30 s, 1 min, 2 min, 4 min ... never more than ``ceiling``."""
    return min(ceiling, FIRST_RETRY * (2 ** max(0, attempts - 1)))


class TicketOutbox:
    """The ticket backend as the bot uses it: creates go through the outbox, the rest passes straight on.

    ``on_queued`` runs when a request has to wait (to tell the technicians),
    ``on_filed`` when a queued request finally becomes a ticket (to tell the
    employee its key), and ``on_change`` after a comment or an update made
    through the bot (to tell the employee what changed).
    """

    def __init__(self, backend: TicketBackend, db: Database, clock: Callable[[], datetime],
                 retry_max: timedelta = timedelta(minutes=30)) -> None:
        self.backend = backend
        self.db = db
        self.clock = clock
        self.retry_max = retry_max
        self.on_filed: FiledHook | None = None
        self.on_change: ChangeHook | None = None
        self.on_queued: QueuedHook | None = None

    @property
    def name(self) -> str:
        """The backend's name, as employees read it (Jira, built-in queue ...)."""
        return self.backend.name

    @property
    def kind(self) -> str:
        """``builtin``, ``jira`` or ``jsm``."""
        return self.backend.kind

    def check(self) -> None:
        """Check the backend (at start-up)."""
        self.backend.check()

    # Creating ----------------------------------------------------------------

    async def create(
        self,
        *,
        reporter: str,
        summary: str,
        description: str = "",
        system: str = "",
        urgency: str = "normal",
        category: str = "",
        request_id: str | None = None,
    ) -> TicketView:
        """File a ticket now, or raise ``TicketQueued`` when the backend is unavailable (nothing is lost)."""
        request_id = request_id or uuid.uuid4().hex
        payload = {"reporter": reporter.lower(), "summary": summary, "description": description,
                   "system": system, "urgency": urgency, "category": category}
        if self.backend.kind == "builtin":  # it lives in this database: writing it down first adds nothing
            return await self.backend.create(**payload, request_id=request_id)
        entry = await self._write(request_id, payload)
        if entry.state == "filed" and entry.ticket_key:
            found = await self.backend.get(entry.ticket_key)
            if found is not None:
                return found
        try:
            view = await self.backend.create(**payload, request_id=request_id)
        except TicketBackendUnavailable as exc:
            await self._postpone(entry, str(exc))
            if self.on_queued is not None:
                await self.on_queued(entry, self.backend.name)
            raise TicketQueued(entry.id or 0, self.backend.name) from None
        except IntegrationError as exc:
            await self._fail(entry, str(exc))
            raise
        await self._filed(entry, view.key)
        return view

    async def _write(self, request_id: str, payload: dict[str, Any]) -> TicketOutboxEntry:
        now = self.clock()

        def write(session: Session) -> TicketOutboxEntry:
            existing = session.exec(select(TicketOutboxEntry).where(TicketOutboxEntry.request_id == request_id)).first()
            if existing is not None:
                return existing
            entry = TicketOutboxEntry(request_id=request_id, reporter=payload["reporter"], payload=payload,
                                      attempts=1, next_attempt_at=now + LEASE, created_at=now, updated_at=now)
            session.add(entry)
            session.flush()
            return entry

        return await self.db.run(write)

    async def _set(self, entry: TicketOutboxEntry, **values: Any) -> None:
        """Update the entry's row (a postponement only while it is still pending)."""
        now = self.clock()

        def change(session: Session) -> None:
            row = session.get(TicketOutboxEntry, entry.id)
            if row is None or ("next_attempt_at" in values and row.state != "pending"):
                return
            for name, value in {**values, "updated_at": now}.items():
                setattr(row, name, value)
            session.add(row)

        await self.db.run(change)

    async def _postpone(self, entry: TicketOutboxEntry, error: str) -> None:
        wait = backoff(entry.attempts, self.retry_max)
        log.warning("ticket request #%s queued, next try in %s: %s", entry.id, wait, error)
        await self._set(entry, next_attempt_at=self.clock() + wait, last_error=error[:500])

    async def _fail(self, entry: TicketOutboxEntry, error: str) -> None:
        log.error("ticket request #%s refused by %s: %s", entry.id, self.backend.name, error)
        await self._set(entry, state="failed", last_error=error[:500])

    async def _filed(self, entry: TicketOutboxEntry, key: str) -> None:
        await self._set(entry, state="filed", ticket_key=key, last_error="")

    # Retrying ----------------------------------------------------------------

    async def retry_due(self) -> int:
        """File every queued request whose time has come; returns how many became tickets.

        Each entry is claimed with a conditional update first, so two replicas never try the same one at once.
        """
        now = self.clock()
        due = await self.db.run(lambda s: list(s.exec(
            select(TicketOutboxEntry).where(TicketOutboxEntry.state == "pending",
                                            col(TicketOutboxEntry.next_attempt_at) <= now)
            .order_by(col(TicketOutboxEntry.id))).all()))
        filed = 0
        for entry in due:
            if not await self._claim(entry, now):
                continue
            entry.attempts += 1
            try:
                view = await self.backend.find_by_request(entry.request_id)
                if view is None:
                    view = await self.backend.create(**entry.payload, request_id=entry.request_id)
            except TicketBackendUnavailable as exc:
                await self._postpone(entry, str(exc))
                break  # still down: the others wait for the next round
            except IntegrationError as exc:
                await self._fail(entry, str(exc))
                continue
            await self._filed(entry, view.key)
            filed += 1
            if self.on_filed is not None:
                await self.on_filed(entry, view)
        return filed

    async def _claim(self, entry: TicketOutboxEntry, now: datetime) -> bool:
        def claim(session: Session) -> bool:
            result = session.execute(
                update(TicketOutboxEntry)
                .where(col(TicketOutboxEntry.id) == entry.id, col(TicketOutboxEntry.state) == "pending",
                       col(TicketOutboxEntry.next_attempt_at) <= now)
                .values(next_attempt_at=now + LEASE, attempts=TicketOutboxEntry.attempts + 1, updated_at=now)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

        return await self.db.run(claim)

    async def waiting(self) -> int:
        """How many requests wait to be filed."""
        query = select(func.count()).select_from(TicketOutboxEntry).where(TicketOutboxEntry.state == "pending")
        return await self.db.run(lambda s: int(s.exec(query).one()))

    async def pending_for(self, reporter: str) -> list[TicketOutboxEntry]:
        """The reporter's requests still waiting to be filed, oldest first."""
        return await self.db.run(lambda s: list(s.exec(
            select(TicketOutboxEntry).where(TicketOutboxEntry.reporter == reporter.lower(),
                                            TicketOutboxEntry.state == "pending")
            .order_by(col(TicketOutboxEntry.id))).all()))

    # Everything else passes through ------------------------------------------

    async def find_by_request(self, request_id: str) -> TicketView | None:
        """The ticket filed for ``request_id``, or None."""
        return await self.backend.find_by_request(request_id)

    async def get(self, key: str) -> TicketView | None:
        """One ticket by key, or None."""
        return await self.backend.get(key)

    async def list_for(self, reporter: str, *, open_only: bool = True) -> list[TicketView]:
        """The reporter's tickets, newest first."""
        return await self.backend.list_for(reporter, open_only=open_only)

    async def list_open(self) -> list[TicketView]:
        """Every open ticket, oldest first."""
        return await self.backend.list_open()

    async def find_open(self, reporter: str, system: str) -> TicketView | None:
        """An open ticket by ``reporter`` about ``system``."""
        return await self.backend.find_open(reporter, system)

    async def comment(self, key: str, author: str, body: str) -> TicketView:
        """Add a comment; the reporter is told when someone else wrote it."""
        view = await self.backend.comment(key, author, body)
        if self.on_change is not None:
            await self.on_change(view, author.lower())
        return view

    async def update(self, key: str, *, status: str | None = None, assignee: str | None = None,
                     actor: str = "") -> TicketView:
        """Change the status or assignee; the reporter is told."""
        view = await self.backend.update(key, status=status, assignee=assignee)
        if self.on_change is not None:
            await self.on_change(view, actor.lower())
        return view

    async def updated_since(self, since: datetime, limit: int = 100) -> list[TicketView]:
        """Tickets changed at or after ``since``, oldest change first."""
        return await self.backend.updated_since(since, limit)
