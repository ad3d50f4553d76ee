"""The bot's record of the tickets it opened (``ticket_link`` rows), which every backend keeps."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.store import TicketLink

__all__ = ["link_ticket", "linked"]


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
