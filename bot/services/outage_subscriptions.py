"""Outage subscriptions: "tell me when it's fixed", and telling them when a notice about it is resolved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.messages import Reply, user_address
from bot.core.text import neutralise_mentions
from bot.store import Announcement, Database, OutageSubscription

__all__ = ["OutageSubscriptions"]


class OutageSubscriptions:
    """Who asked to hear when a system works again."""

    def __init__(self, db: Database, clock: Callable[[], datetime], deliver: Callable[[Reply], Awaitable[object]],
                 system_name: Callable[[str], str]) -> None:
        self.db = db
        self.clock = clock
        self.deliver = deliver
        self.system_name = system_name

    async def subscribe(self, system: str, email: str) -> bool:
        """Remember to tell ``email`` when ``system`` is resolved; False when already asked."""
        row = OutageSubscription(system=system.lower(), email=email.lower(), created_at=self.clock())
        try:
            await self.db.run(lambda session: session.add(row))
        except IntegrityError:
            return False
        return True

    async def resolved(self, root: Announcement) -> None:
        """Tell (once) everyone subscribed to a system of ``root`` that it works again."""
        systems = [s.lower() for s in root.systems]
        if not systems:
            return

        def take(session: Session) -> list[OutageSubscription]:
            rows = list(session.exec(select(OutageSubscription).where(
                col(OutageSubscription.system).in_(systems))).all())
            for row in rows:
                session.delete(row)
            return rows

        for subscription in await self.db.run(take):
            await self.deliver(Reply(
                f"Good news: {self.system_name(subscription.system)} is working again "
                f"({neutralise_mentions(root.title)}). "
                "If it still isn't working for you, tell me and I'll open a ticket.",
                to=user_address(subscription.email), private=True))
