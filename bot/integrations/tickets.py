"""Tickets: the TicketQueue port and the built-in queue (keys like HELP-12) in our own tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlmodel import Session, col, select

from bot.errors import UserFacingError
from bot.store import Database, Ticket, TicketComment

__all__ = ["LocalTicketQueue", "TicketQueue", "TicketView", "URGENCIES"]

URGENCIES = ("low", "normal", "high", "urgent")
OPEN_STATUSES = ("open", "in progress", "waiting")


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

    @property
    def is_open(self) -> bool:
        """True while the ticket is not resolved or closed."""
        return self.status in OPEN_STATUSES


@runtime_checkable
class TicketQueue(Protocol):
    """Where tickets live: the built-in queue here, Jira or JSM later."""

    name: str

    async def create(
        self, *, reporter: str, summary: str, description: str = "", system: str = "", urgency: str = "normal"
    ) -> TicketView:
        """File a ticket and return it with its key."""
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


class LocalTicketQueue:
    """The built-in ticket queue, in the bot's own database."""

    name = "built-in queue"

    def __init__(self, db: Database, prefix: str, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.prefix = prefix
        self.clock = clock

    async def create(
        self, *, reporter: str, summary: str, description: str = "", system: str = "", urgency: str = "normal"
    ) -> TicketView:
        """File a ticket; its key is the prefix and the row id (HELP-12)."""
        now = self.clock()

        def insert(session: Session) -> TicketView:
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
            return _view(session, ticket)

        return await self.db.run(insert)

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
        return await self.db.run(lambda session: [_view(session, t) for t in session.exec(query).all()])

    async def list_open(self) -> list[TicketView]:
        """Every open ticket, oldest first."""
        query = select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES)).order_by(col(Ticket.id))
        return await self.db.run(lambda session: [_view(session, t) for t in session.exec(query).all()])

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
                ticket.status = status
            if assignee is not None:
                ticket.assignee = assignee.lower()
            ticket.updated_at = now
            session.add(ticket)
            return _view(session, ticket)

        return await self.db.run(change)


def _ticket(session: Session, key: str) -> Ticket:
    ticket = session.exec(select(Ticket).where(Ticket.key == key.strip().upper())).first()
    if ticket is None:
        raise UserFacingError(f"I can't find a ticket called {key}.")
    return ticket


def _view(session: Session, ticket: Ticket) -> TicketView:
    last = session.exec(
        select(TicketComment).where(TicketComment.ticket_id == ticket.id).order_by(col(TicketComment.id).desc())
    ).first()
    return TicketView(
        key=ticket.key, summary=ticket.summary, status=ticket.status, reporter=ticket.reporter,
        description=ticket.description, system=ticket.system, urgency=ticket.urgency,
        assignee=ticket.assignee, last_comment=last.body if last else None, updated_at=ticket.updated_at,
    )
