"""Reading and changing announcement rows (the state every step of an announcement is kept in)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.store import Announcement, Database

__all__ = ["OPEN_STATUSES", "AnnouncementRows"]

OPEN_STATUSES = ("draft", "awaiting_approval", "scheduled", "recurring")
"""The statuses of an announcement that has not gone out: it can still be edited or cancelled."""


class AnnouncementRows:
    """The ``Announcement`` table."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def get(self, announcement_id: int) -> Announcement | None:
        """One announcement by id."""
        return await self.db.run(lambda session: session.get(Announcement, announcement_id))

    async def newest(self, limit: int = 20) -> list[Announcement]:
        """The newest announcements that are not follow-ups or occurrences."""
        query = (select(Announcement).where(col(Announcement.parent_id).is_(None))
                 .order_by(col(Announcement.id).desc()).limit(limit))
        return await self.db.run(lambda session: list(session.exec(query).all()))

    async def set(self, announcement_id: int, *, only_from: Iterable[str] | None = None, **values: Any) -> bool:
        """Change the row's fields; with ``only_from`` only while its status is one of those. True if changed."""
        values.setdefault("updated_at", self.clock())
        query = update(Announcement).where(col(Announcement.id) == announcement_id)
        if only_from is not None:
            query = query.where(col(Announcement.status).in_(list(only_from)))
        return await self.db.run(
            lambda session: session.execute(query.values(**values)).rowcount == 1  # type: ignore[attr-defined]
        )

    async def with_status(self, status: str) -> list[Announcement]:
        """Every announcement in ``status``."""
        query = select(Announcement).where(Announcement.status == status)
        return await self.db.run(lambda session: list(session.exec(query).all()))

    async def latest_update(self, root_id: int) -> Announcement | None:
        """The newest follow-up of an announcement."""
        query = (select(Announcement).where(Announcement.parent_id == root_id)
                 .order_by(col(Announcement.id).desc()).limit(1))
        return await self.db.run(lambda session: session.exec(query).first())

    async def for_notice(self, notice_id: int) -> Announcement | None:
        """The announcement that put notice ``notice_id`` on the board."""
        query = select(Announcement).where(Announcement.notice_id == notice_id)
        return await self.db.run(lambda session: session.exec(query).first())
