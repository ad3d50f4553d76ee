"""The built-in ticket queue: tickets with keys like HELP-12, in the bot's own tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.errors import UserFacingError
from bot.integrations.tickets.links import link_ticket
from bot.integrations.tickets.port import OPEN_STATUSES, URGENCIES, TicketView, category_for
from bot.store import Database, Ticket, TicketComment, TicketLink

__all__ = ["LocalTicketQueue"]


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
              .group_by(col(TicketComment.ticket_id)))
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
