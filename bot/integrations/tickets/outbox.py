"""The outbox in front of the ticket backend: a request is written down before the backend is called.

When the backend is down, slow or rate limiting, the request waits in the
``ticket_outbox`` table and ``retry_due`` files it later, with backoff. Each
request carries a unique id that the backend stores on the ticket (a Jira
label), and a retry looks it up before it creates anything, so a crash
between "created in Jira" and "recorded here" never files a second ticket.

The outbox also knows whether the backend answers (``health``). A backend that
does not answer at start-up does not stop the bot: it starts degraded, files
requests into the outbox, says so in ``/healthz`` and on the dashboard, and
``watch`` checks the backend again until it is back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.core.errors import ConfigError, IntegrationError, TicketBackendUnavailable, TicketQueued
from bot.integrations.tickets.port import TicketBackend, TicketView
from bot.store import Database, TicketOutboxEntry

__all__ = ["BackendHealth", "TicketOutbox", "backoff"]

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
"""How long one attempt may hold an entry before another replica may try it."""

FiledHook = Callable[[TicketOutboxEntry, TicketView], Awaitable[None]]
ChangeHook = Callable[[TicketView, str], Awaitable[Any]]
QueuedHook = Callable[[TicketOutboxEntry, str], Awaitable[None]]


@dataclass(frozen=True)
class BackendHealth:
    """Whether the ticket backend answered the last time the bot asked, and if not, why and since when."""

    up: bool = True
    detail: str = ""
    since: datetime | None = None


def backoff(attempts: int, ceiling: timedelta) -> timedelta:
    """Wait before the next try: 30 s, 1 min, 2 min, 4 min ... never more than ``ceiling``."""
    factor: int = 2 ** max(0, attempts - 1)
    return min(ceiling, FIRST_RETRY * factor)


class TicketOutbox:
    """The ticket backend as the bot uses it: creates go through the outbox, the rest passes straight on.

    ``on_queued`` runs when a request has to wait (to tell the technicians),
    ``on_filed`` when a queued request finally becomes a ticket (to tell the
    employee its key), and ``on_change`` after a comment or an update made
    through the bot (to tell the employee what changed).
    """

    def __init__(self, backend: TicketBackend, db: Database, clock: Callable[[], datetime],
                 retry_max: timedelta = timedelta(minutes=30), *, on_filed: FiledHook | None = None,
                 on_change: ChangeHook | None = None, on_queued: QueuedHook | None = None) -> None:
        self.backend = backend
        self.db = db
        self.clock = clock
        self.retry_max = retry_max
        self.on_filed = on_filed
        self.on_change = on_change
        self.on_queued = on_queued
        self.health = BackendHealth()
        self._checked = False  # the start-up check has passed (it could not run while the backend was down)

    @property
    def name(self) -> str:
        """The backend's name, as employees read it (Jira, built-in queue ...)."""
        return self.backend.name

    @property
    def kind(self) -> str:
        """``builtin``, ``jira`` or ``jsm``."""
        return self.backend.kind

    def check(self) -> None:
        """Check the backend (at start-up): a ConfigError stops the bot; a backend that does not answer does not."""
        try:
            self.backend.check()
        except TicketBackendUnavailable as exc:
            self._down(str(exc))
            log.warning("%s; starting without it: ticket requests wait in the outbox and are filed when it is back",
                        exc)
            return
        self._checked = True

    async def probe(self) -> bool:
        """Ask the backend again (its start-up check, while that has not passed); True when it answers.

        On the way back up, the requests already due are filed at once.
        """
        try:
            await asyncio.to_thread(self.backend.check)
        except TicketBackendUnavailable as exc:
            self._down(str(exc))
            return False
        except ConfigError as exc:  # it answers, but the settings do not fit it: say so, and keep asking
            self._down(str(exc))
            log.error("%s", exc)
            return False
        self._checked = True
        if not self.health.up:
            log.info("%s answers again; filing the requests that wait in the outbox", self.backend.name)
            await self._due_now()
        self._up()
        await self.retry_due()
        return True

    async def _due_now(self) -> None:
        """Make every postponed request due now (the backend is back: no backoff is left to wait out).

        A request some replica is trying right now (claimed: due ``LEASE`` after its last update,
        within the lease) is left alone, and each change is a compare-and-set, so none is tried twice at once.
        """
        now = self.clock()

        def reset(session: Session) -> None:
            waiting = session.exec(select(TicketOutboxEntry).where(
                TicketOutboxEntry.state == "pending", col(TicketOutboxEntry.next_attempt_at) > now)).all()
            for entry in waiting:
                in_flight = entry.next_attempt_at == entry.updated_at + LEASE and entry.updated_at > now - LEASE
                if not in_flight:
                    session.execute(update(TicketOutboxEntry).where(
                        col(TicketOutboxEntry.id) == entry.id, col(TicketOutboxEntry.state) == "pending",
                        col(TicketOutboxEntry.next_attempt_at) == entry.next_attempt_at).values(next_attempt_at=now))

        await self.db.run(reset)

    async def watch(self, every: timedelta) -> None:
        """While serving: every ``every``, probe a backend that is down (or not checked yet) until it answers."""
        while True:
            await asyncio.sleep(every.total_seconds())
            if self.health.up and self._checked:
                continue
            try:
                await self.probe()
            except Exception:  # keep watching
                log.exception("checking %s again failed", self.backend.name)

    def _down(self, detail: str) -> None:
        if self.health.up or self.health.detail != detail:
            since = self.health.since if not self.health.up else self.clock()
            self.health = BackendHealth(up=False, detail=detail, since=since)

    def _up(self) -> None:
        if not self.health.up:
            self.health = BackendHealth()

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
            self._down(str(exc))
            await self._postpone(entry, str(exc))
            if self.on_queued is not None:
                await self.on_queued(entry, self.backend.name)
            raise TicketQueued(entry.id or 0, self.backend.name) from None
        except IntegrationError as exc:
            await self._fail(entry, str(exc))
            raise
        self._up()
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
                self._down(str(exc))
                await self._postpone(entry, str(exc))
                break  # still down: the others wait for the next round
            except IntegrationError as exc:
                await self._fail(entry, str(exc))
                continue
            self._up()
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
            rowcount: int = result.rowcount  # type: ignore[attr-defined]
            return rowcount == 1

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
