"""Acknowledgements of notices: "I have read this", who has and who has not, and one reminder for the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.address import Person, decode_address
from bot.core.messages import Reply, user_address
from bot.core.text import neutralise_mentions
from bot.services.notice_buttons import NoticeButtons
from bot.store import Acknowledgement, Announcement, Database, Delivery

__all__ = ["AckReport", "Acknowledgements"]


@dataclass
class AckReport:
    """Who acknowledged an announcement and who has not yet."""

    announcement: Announcement
    acknowledged: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


class Acknowledgements:
    """Records acknowledgements, reports on them and reminds those who have not acknowledged."""

    def __init__(self, db: Database, clock: Callable[[], datetime], deliver: Callable[[Reply], Awaitable[object]],
                 buttons: NoticeButtons) -> None:
        self.db = db
        self.clock = clock
        self.deliver = deliver
        self.buttons = buttons

    async def acknowledge(self, announcement_id: int, email: str) -> bool:
        """Record "I have read this"; False when it was recorded already."""
        row = Acknowledgement(announcement_id=announcement_id, email=email.lower(), at=self.clock())
        try:
            await self.db.run(lambda session: session.add(row))
        except IntegrityError:
            return False
        return True

    async def report(self, announcement_id: int) -> AckReport | None:
        """Who acknowledged and who has not (among the people it reached directly)."""

        def read(session: Session) -> tuple[Announcement | None, list[str], list[str]]:
            row = session.get(Announcement, announcement_id)
            if row is None:
                return None, [], []
            acked = list(session.exec(select(Acknowledgement.email).where(
                Acknowledgement.announcement_id == announcement_id).order_by(col(Acknowledgement.email))).all())
            reached = session.exec(select(Delivery.recipient).where(
                Delivery.announcement_id == announcement_id, Delivery.status == "sent")).all()
            people = sorted(a.email for a in map(decode_address, reached) if isinstance(a, Person))
            done = set(acked)
            return row, acked, [p for p in people if p not in done]

        row, acknowledged, pending = await self.db.run(read)
        return AckReport(row, acknowledged, pending) if row is not None else None

    async def remind(self, announcement_id: int) -> int:
        """Remind (once, in the thread) everyone who has not acknowledged; returns how many."""
        row = await self.db.run(lambda session: session.get(Announcement, announcement_id))
        if row is None or not row.ack_required or row.status != "sent":
            return 0
        now = self.clock()

        def take(session: Session) -> list[str]:
            acked = select(Acknowledgement.email).where(Acknowledgement.announcement_id == announcement_id)
            acked_addresses = {user_address(e) for e in session.exec(acked).all()}
            due = [d for d in session.exec(select(Delivery).where(
                Delivery.announcement_id == announcement_id, Delivery.status == "sent",
                col(Delivery.reminded_at).is_(None))).all()
                if isinstance(decode_address(d.recipient), Person) and d.recipient not in acked_addresses]
            for delivery in due:
                delivery.reminded_at = now
                session.add(delivery)
            return [d.recipient for d in due]

        recipients = await self.db.run(take)
        for recipient in recipients:
            await self.deliver(Reply(
                f"Reminder: please read this IT notice and click \"I have read this\": "
                f"{neutralise_mentions(row.title)}",
                self.buttons.acknowledge_buttons(announcement_id),
                to=recipient, thread=f"notice:{announcement_id}:{recipient}", private=True))
        if recipients:
            await self.deliver(Reply(f"Reminded {len(recipients)} people who had not yet read notice "
                                     f"#{announcement_id}.", to=user_address(row.created_by), private=True))
        return len(recipients)
