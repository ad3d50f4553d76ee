"""Tickets: the TicketBackend port and the built-in queue (keys like HELP-12) in our own tables.

Jira and Jira Service Management live in ``bot.integrations.jira``; the outbox
that keeps a request safe while a backend is down is ``bot.integrations.ticket_outbox``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.errors import UserFacingError
from bot.store import Database, Ticket, TicketComment, TicketLink

if TYPE_CHECKING:
    from bot.core.settings import Settings

__all__ = [
    "CATEGORIES",
    "LocalTicketQueue",
    "OPEN_STATUSES",
    "TicketBackend",
    "TicketView",
    "URGENCIES",
    "build_ticket_backend",
    "category_for",
    "link_ticket",
    "linked",
    "valid_key",
]

URGENCIES = ("low", "normal", "high", "urgent")
OPEN_STATUSES = ("open", "in progress", "waiting")
DONE_STATUSES = ("resolved", "closed")
CATEGORIES = ("hardware", "software", "network", "access", "security", "request")
_SYSTEM_CATEGORY = {
    "computer": "hardware", "printer": "hardware", "phone": "hardware", "mdt": "hardware", "badge": "access",
    "outlook": "software", "teams": "software", "erp": "software", "permitting": "software",
    "website": "software", "vpn": "network", "wifi": "network", "internet": "network",
    "shared drive": "access", "mfa": "access", "account": "access",
}
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}-\d{1,9}$")


def category_for(system: str, category: str = "") -> str:
    """The ticket category: the one given, else the one that the system belongs to, else ``request``."""
    if category:
        return category
    return _SYSTEM_CATEGORY.get(system.strip().lower(), "request")


def valid_key(key: str) -> str | None:
    """``key`` upper-cased when it looks like a ticket key (PROJ-123), else None."""
    key = key.strip().upper()
    return key if _KEY.match(key) else None


@dataclass(frozen=True)
class TicketView:
    """A ticket as skills see it, whatever the backend."""

    key: str
    summary: str
    status: str
    reporter: str
    description: str = ""
    system: str = ""
    urgency: str = "normal"
    assignee: str | None = None
    last_comment: str | None = None
    url: str | None = None
    updated_at: datetime | None = None
    category: str = ""
    last_comment_id: str | None = None
    last_comment_by: str | None = None
    done: bool | None = None

    @property
    def is_open(self) -> bool:
        """True while the ticket is not resolved or closed."""
        if self.done is not None:
            return not self.done
        return self.status in OPEN_STATUSES


@runtime_checkable
class TicketBackend(Protocol):
    """Where tickets live: the built-in queue, Jira, or Jira Service Management.

    Every backend passes the one contract suite in ``tests/integrations/test_ticket_contract.py``.
    """

    name: str
    kind: str

    def check(self) -> None:
        """At start-up: fail with a ConfigError of one line when the backend is not usable (bad URL, token, project),
        or raise ``TicketBackendUnavailable`` when it does not answer (the bot then starts without it)."""
        ...

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
        """File a ticket and return it with its key. ``request_id`` marks it, so a retry can find it."""
        ...

    async def find_by_request(self, request_id: str) -> TicketView | None:
        """The ticket filed for ``request_id``, if one was (even when we never heard back)."""
        ...

    async def get(self, key: str) -> TicketView | None:
        """One ticket by key, or None."""
        ...

    async def list_for(self, reporter: str, *, open_only: bool = True) -> list[TicketView]:
        """The reporter's tickets, newest first."""
        ...

    async def list_open(self) -> list[TicketView]:
        """Every open ticket, oldest first (the technicians' queue)."""
        ...

    async def find_open(self, reporter: str, system: str) -> TicketView | None:
        """An open ticket by ``reporter`` about ``system``, to offer instead of a duplicate."""
        ...

    async def comment(self, key: str, author: str, body: str) -> TicketView:
        """Add a comment."""
        ...

    async def update(self, key: str, *, status: str | None = None, assignee: str | None = None) -> TicketView:
        """Change the status or the assignee."""
        ...

    async def updated_since(self, since: datetime, limit: int = 100) -> list[TicketView]:
        """At most ``limit`` of the bot's tickets changed at or after ``since``, oldest change first."""
        ...


def link_ticket(session: Session, *, key: str, backend: str, reporter: str, system: str, status: str,
                request_id: str | None, now: datetime) -> TicketLink:
    """Record that the bot opened ``key`` for ``reporter`` (once; a second call returns the first row)."""
    existing = session.exec(select(TicketLink).where(TicketLink.key == key)).first()
    if existing is not None:
        return existing
    link = TicketLink(key=key, backend=backend, request_id=request_id, reporter=reporter.lower(), system=system,
                      status=status, created_at=now, updated_at=now)
    session.add(link)
    session.flush()
    return link


def linked(session: Session, key: str) -> TicketLink | None:
    """The bot's record of ticket ``key``, if the bot opened it."""
    return session.exec(select(TicketLink).where(TicketLink.key == key)).first()


class LocalTicketQueue:
    """The built-in ticket queue, in the bot's own database."""

    name = "built-in queue"
    kind = "builtin"

    def __init__(self, db: Database, prefix: str, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.prefix = prefix
        self.clock = clock

    def check(self) -> None:
        """Nothing to check: the queue is in the bot's own database."""

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
        """File a ticket; its key is the prefix and the row id (HELP-12)."""
        now = self.clock()

        def insert(session: Session) -> TicketView:
            if request_id:
                link = session.exec(select(TicketLink).where(TicketLink.request_id == request_id)).first()
                if link is not None:
                    return _view(session, _ticket(session, link.key))
            ticket = Ticket(
                key=f"new-{now.timestamp()}-{reporter}"[:32], reporter=reporter.lower(),
                summary=summary.strip()[:255] or "(no summary)", description=description,
                system=system, urgency=urgency if urgency in URGENCIES else "normal",
                created_at=now, updated_at=now,
            )
            session.add(ticket)
            session.flush()
            ticket.key = f"{self.prefix}-{ticket.id}"
            session.add(ticket)
            link_ticket(session, key=ticket.key, backend=self.kind, reporter=reporter, system=system,
                        status=ticket.status, request_id=request_id, now=now)
            return _view(session, ticket)

        return await self.db.run(insert)

    async def find_by_request(self, request_id: str) -> TicketView | None:
        """The ticket filed for ``request_id``, or None."""

        def find(session: Session) -> TicketView | None:
            link = session.exec(select(TicketLink).where(TicketLink.request_id == request_id)).first()
            ticket = session.exec(select(Ticket).where(Ticket.key == link.key)).first() if link else None
            return None if ticket is None else _view(session, ticket)

        return await self.db.run(find)

    async def get(self, key: str) -> TicketView | None:
        """One ticket by key (any case), or None."""
        key = key.strip().upper()

        def find(session: Session) -> TicketView | None:
            ticket = session.exec(select(Ticket).where(Ticket.key == key)).first()
            return None if ticket is None else _view(session, ticket)

        return await self.db.run(find)

    async def list_for(self, reporter: str, *, open_only: bool = True) -> list[TicketView]:
        """The reporter's tickets, newest first."""
        query = select(Ticket).where(Ticket.reporter == reporter.lower())
        if open_only:
            query = query.where(col(Ticket.status).in_(OPEN_STATUSES))
        query = query.order_by(col(Ticket.id).desc())
        return await self.db.run(lambda session: _views(session, session.exec(query).all()))

    async def list_open(self) -> list[TicketView]:
        """Every open ticket, oldest first."""
        query = select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES)).order_by(col(Ticket.id))
        return await self.db.run(lambda session: _views(session, session.exec(query).all()))

    async def find_open(self, reporter: str, system: str) -> TicketView | None:
        """The newest open ticket by ``reporter`` about ``system``."""
        if not system:
            return None
        tickets = await self.list_for(reporter)
        return next((t for t in tickets if t.system == system), None)

    async def comment(self, key: str, author: str, body: str) -> TicketView:
        """Add a comment to the ticket."""
        now = self.clock()

        def add(session: Session) -> TicketView:
            ticket = _ticket(session, key)
            session.add(TicketComment(ticket_id=ticket.id or 0, author=author.lower(), body=body, created_at=now))
            ticket.updated_at = now
            session.add(ticket)
            session.flush()
            return _view(session, ticket)

        return await self.db.run(add)

    async def update(self, key: str, *, status: str | None = None, assignee: str | None = None) -> TicketView:
        """Change the status and/or the assignee."""
        now = self.clock()

        def change(session: Session) -> TicketView:
            ticket = _ticket(session, key)
            if status is not None:
                ticket.status = status.strip().lower()
            if assignee is not None:
                ticket.assignee = assignee.lower()
            ticket.updated_at = now
            session.add(ticket)
            return _view(session, ticket)

        return await self.db.run(change)

    async def updated_since(self, since: datetime, limit: int = 100) -> list[TicketView]:
        """At most ``limit`` tickets changed at or after ``since``, oldest change first."""
        query = select(Ticket).where(col(Ticket.updated_at) >= since).order_by(col(Ticket.updated_at)).limit(limit)
        return await self.db.run(lambda session: _views(session, session.exec(query).all()))


def _ticket(session: Session, key: str) -> Ticket:
    ticket = session.exec(select(Ticket).where(Ticket.key == key.strip().upper())).first()
    if ticket is None:
        raise UserFacingError(f"I can't find a ticket called {key}.")
    return ticket


def _view(session: Session, ticket: Ticket) -> TicketView:
    last = session.exec(
        select(TicketComment).where(TicketComment.ticket_id == ticket.id).order_by(col(TicketComment.id).desc())
    ).first()
    return _as_view(ticket, last)


def _views(session: Session, tickets: Sequence[Ticket]) -> list[TicketView]:
    """Views of many tickets, their last comments read in one query (not one per ticket)."""
    ids = [t.id for t in tickets]
    newest = (select(func.max(TicketComment.id)).where(col(TicketComment.ticket_id).in_(ids))
              .group_by(TicketComment.ticket_id))
    last = {c.ticket_id: c for c in session.exec(select(TicketComment).where(col(TicketComment.id).in_(newest)))}
    return [_as_view(t, last.get(t.id or 0)) for t in tickets]


def _as_view(ticket: Ticket, last: TicketComment | None) -> TicketView:
    return TicketView(
        key=ticket.key, summary=ticket.summary, status=ticket.status, reporter=ticket.reporter,
        description=ticket.description, system=ticket.system, urgency=ticket.urgency,
        assignee=ticket.assignee, last_comment=last.body if last else None, updated_at=ticket.updated_at,
        category=category_for(ticket.system), last_comment_id=str(last.id) if last else None,
        last_comment_by=last.author if last else None,
        done=ticket.status not in OPEN_STATUSES,
    )


def build_ticket_backend(settings: Settings, db: Database, clock: Callable[[], datetime]) -> TicketBackend:
    """The backend that the settings choose: the built-in queue, Jira, or Jira Service Management."""
    kind = settings.ticket_backend_kind
    if kind == "builtin":
        return LocalTicketQueue(db, settings.ticket_prefix, clock)
    from bot.integrations.tickets.jira import JiraBackend, ServiceDeskBackend  # the jira library loads only when used

    return ServiceDeskBackend(settings, db, clock) if kind == "jsm" else JiraBackend(settings, db, clock)
