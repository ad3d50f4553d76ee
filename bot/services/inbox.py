"""The inbox: every event, click and activity a channel acknowledges is a row before the ack.

A channel calls ``accept`` before it acknowledges. One INSERT writes the item
with its dedup key (unique per channel) and claims it for this replica. A
repeat of a stored key (Slack's retry, the same event at another replica) is
dropped, unless its row is not done and its claim has lapsed: then whoever
sees it takes it over. The channel handles the item after the ack through
``process``, which renews the claim while the handler runs and marks the row
``done`` (or ``failed`` when the handler raised: that is logged, not retried).

A replica that dies leaves its claimed rows behind. ``run_forever``, on every
replica, takes over rows whose claim is older than the lease (``HELPDESK_LEASE``)
and hands them to the handler the channel registered, so after a crash a
restart, or another replica, answers every event that was acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store import Database, InboxEntry

__all__ = ["Handler", "Inbox"]

log = logging.getLogger(__name__)

Handler = Callable[[InboxEntry], Awaitable[None]]
"""What a channel does with one of its inbox items (the work it used to start right after the ack)."""

MAX_ATTEMPTS = 3
"""An item taken over this many times (it kills or hangs whoever runs it) is given up, with an error logged."""
TAKEOVER_BATCH = 20
KEEP_DONE = timedelta(days=1)
"""Handled rows are kept this long, so a late retry of the same event is still recognised and dropped."""


class Inbox:
    """The ``inbox`` table: accept before the ack, process after it, take over what a dead replica left."""

    def __init__(self, db: Database, clock: Callable[[], datetime], lease: timedelta, replica: str) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease
        self.replica = replica
        self._handlers: dict[str, Handler] = {}
        self._running: set[asyncio.Task[None]] = set()

    def register(self, channel: str, handler: Handler) -> None:
        """Handle ``channel``'s items with ``handler`` (the items this replica takes over, too)."""
        self._handlers[channel] = handler

    # Accepting --------------------------------------------------------------------

    async def accept(self, channel: str, key: str, kind: str, payload: dict[str, Any]) -> InboxEntry | None:
        """Store and claim one item before the ack; None when it is a repeat that someone else has in hand.

        An empty ``key`` (the platform sent no id) gets a key of its own: it cannot be a repeat.
        """
        now = self.clock()
        key = key[:200] or f"unkeyed:{secrets.token_hex(8)}"
        entry = InboxEntry(channel=channel, key=key, kind=kind, payload=payload, claimed_by=self.replica,
                           claimed_at=now, received_at=now)

        def insert(session: Session) -> InboxEntry:
            session.add(entry)
            session.flush()
            session.refresh(entry)
            return entry

        try:
            return await self.db.run(insert)
        except IntegrityError:
            pass
        stored = await self.db.run(lambda session: session.exec(select(InboxEntry).where(
            InboxEntry.channel == channel, InboxEntry.key == key)).first())
        if stored is None or stored.state != "working":
            return None
        return await self._take(stored)

    # Processing -------------------------------------------------------------------

    async def process(self, entry: InboxEntry) -> None:
        """Run the channel's handler on ``entry``, keeping the claim fresh; mark it done, or failed if it raised."""
        handler = self._handlers.get(entry.channel)
        if handler is None:
            raise RuntimeError(f"no inbox handler for channel {entry.channel!r}")
        renewing = asyncio.create_task(self._renew(int(entry.id or 0)))
        try:
            await handler(entry)
        except Exception:
            await self._finish(entry, "failed")
            raise
        finally:
            renewing.cancel()
        await self._finish(entry, "done")

    async def _renew(self, entry_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            await self._extend(entry_id)

    async def _extend(self, entry_id: int) -> None:
        """Move the claim's time forward, if this replica still holds it."""
        mine = and_(col(InboxEntry.id) == entry_id, col(InboxEntry.claimed_by) == self.replica,
                    col(InboxEntry.state) == "working")
        await self.db.run(lambda session: session.execute(
            update(InboxEntry).where(mine).values(claimed_at=self.clock())))

    async def _finish(self, entry: InboxEntry, state: str) -> None:
        query = (update(InboxEntry).where(col(InboxEntry.id) == entry.id, col(InboxEntry.state) == "working")
                 .values(state=state, finished_at=self.clock()))
        await self.db.run(lambda session: session.execute(query))

    # Taking over ----------------------------------------------------------------

    async def _take(self, entry: InboxEntry) -> InboxEntry | None:
        """Claim ``entry`` from a replica whose claim lapsed; None when it is still held (or was taken first)."""
        now = self.clock()
        lapsed = and_(col(InboxEntry.id) == entry.id, col(InboxEntry.state) == "working",
                      col(InboxEntry.claimed_at) < now - self.lease)
        taken = await self.db.run(lambda session: session.execute(  # type: ignore[attr-defined]
            update(InboxEntry).where(lapsed).values(claimed_by=self.replica, claimed_at=now,
                                                    attempts=col(InboxEntry.attempts) + 1)).rowcount == 1)
        if not taken:
            return None
        fresh = await self.db.run(lambda session: session.get(InboxEntry, entry.id))
        if fresh is not None and fresh.attempts > MAX_ATTEMPTS:
            log.error("inbox: %s item %s (%s) was taken over %d times without finishing; given up",
                      fresh.channel, fresh.key, fresh.kind, fresh.attempts - 1)
            await self._finish(fresh, "failed")
            return None
        return fresh

    async def take_over(self) -> int:
        """Start handling every item whose claim lapsed (its replica died); returns how many were taken."""
        cutoff = self.clock() - self.lease
        channels = list(self._handlers)
        if not channels:
            return 0
        query = (select(InboxEntry).where(InboxEntry.state == "working", col(InboxEntry.claimed_at) < cutoff,
                                          col(InboxEntry.channel).in_(channels))
                 .order_by(col(InboxEntry.id)).limit(TAKEOVER_BATCH))
        stale = await self.db.run(lambda session: list(session.exec(query).all()))
        taken = 0
        for row in stale:
            entry = await self._take(row)
            if entry is None:
                continue
            log.info("inbox: taking over %s item %s (%s) from %s", entry.channel, entry.key, entry.kind,
                     row.claimed_by)
            task = asyncio.create_task(self._process_logged(entry))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            taken += 1
        return taken

    async def _process_logged(self, entry: InboxEntry) -> None:
        try:
            await self.process(entry)
        except Exception:
            log.exception("inbox: handling %s item %s (%s) failed", entry.channel, entry.key, entry.kind)

    async def prune(self) -> int:
        """Forget handled items older than a day (no retry of them can still come)."""
        cutoff = self.clock() - KEEP_DONE
        query = delete(InboxEntry).where(col(InboxEntry.state) != "working", col(InboxEntry.finished_at) < cutoff)
        return await self.db.run(lambda session: int(session.execute(query).rowcount or 0))  # type: ignore

    async def pending(self) -> list[InboxEntry]:
        """Every item not handled yet, oldest first."""
        query = select(InboxEntry).where(InboxEntry.state == "working").order_by(col(InboxEntry.id))
        return await self.db.run(lambda session: list(session.exec(query).all()))

    async def run_forever(self) -> None:
        """Take over lapsed items until cancelled (the serving loop of ``helpdesk run``)."""
        every = min(5.0, max(0.2, self.lease.total_seconds() / 4))
        pruned_at = self.clock()
        while True:
            try:
                await self.take_over()
                if self.clock() - pruned_at > timedelta(hours=1):
                    await self.prune()
                    pruned_at = self.clock()
            except Exception:  # keep watching; a database blip is logged and retried
                log.exception("inbox: taking over items failed; retrying")
            await asyncio.sleep(every)

    async def drain(self) -> None:
        """Wait for the items taken over in the background to finish."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
