"""The notice board: outage, maintenance, security and general notices, and who to send them to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from bot.store import Database, EmployeeRecord, Notice

__all__ = ["NoticeBoard"]


class NoticeBoard:
    """Stores notices and answers which are active for a system."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def post(self, *, kind: str, title: str, body: str, systems: list[str], author: str) -> Notice:
        """Store an active notice."""
        now = self.clock()
        notice = Notice(kind=kind, title=title[:255], body=body, systems=systems, created_by=author,
                        created_at=now, updated_at=now)

        def add(session: Session) -> Notice:
            session.add(notice)
            session.flush()
            session.refresh(notice)
            return notice

        return await self.db.run(add)

    async def active(self, system: str | None = None) -> list[Notice]:
        """Active notices, newest first; only those about ``system`` when it is given."""
        query = select(Notice).where(Notice.status == "active").order_by(col(Notice.id).desc())
        notices = await self.db.run(lambda session: list(session.exec(query).all()))
        return [n for n in notices if system is None or system in n.systems]

    async def recipients(self) -> list[str]:
        """Every employee the bot can reach (all who have talked to it)."""
        return await self.db.run(
            lambda session: list(session.exec(select(EmployeeRecord.email).order_by(EmployeeRecord.email)).all())
        )
