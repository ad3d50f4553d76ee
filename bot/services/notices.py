"""The notice board: outage, maintenance, security and general notices, and who to send them to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.store import Database, EmployeeRecord, Notice, OutageReport

__all__ = ["PROBABLE_OUTAGE_REPORTS", "PROBABLE_OUTAGE_WINDOW", "NoticeBoard"]

PROBABLE_OUTAGE_REPORTS = 3
PROBABLE_OUTAGE_WINDOW = timedelta(minutes=15)


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

    async def resolve(self, notice_id: int) -> bool:
        """Take a notice off the board (its outage is over); False when it was not active."""
        now = self.clock()

        def close(session: Session) -> bool:
            notice = session.get(Notice, notice_id)
            if notice is None or notice.status != "active":
                return False
            notice.status = "resolved"
            notice.updated_at = now
            session.add(notice)
            return True

        return await self.db.run(close)

    async def record_report(self, system: str, reporter: str, ticket_key: str) -> tuple[int, bool]:
        """Record that ``reporter`` says ``system`` is down.

        Returns how many different people reported it in the last 15 minutes, and
        whether that makes it a probable outage to alert about now (three or more,
        and no alert yet in that window).
        """
        now = self.clock()
        since = now - PROBABLE_OUTAGE_WINDOW

        def record(session: Session) -> tuple[int, bool]:
            session.add(OutageReport(system=system, reporter=reporter, ticket_key=ticket_key, reported_at=now))
            session.flush()
            if not system:
                return 1, False
            recent = list(session.exec(select(OutageReport).where(
                OutageReport.system == system, col(OutageReport.reported_at) >= since)).all())
            reporters = len({r.reporter for r in recent})
            if reporters < PROBABLE_OUTAGE_REPORTS or any(r.alerted for r in recent):
                return reporters, False
            for row in recent:
                row.alerted = True
                session.add(row)
            return reporters, True

        return await self.db.run(record)
