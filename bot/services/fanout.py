"""Fan-out: one message to many addresses, each once, at a bounded pace, with progress that survives a crash.

A fan-out is a set of ``Delivery`` rows (unique per fan-out and recipient). A
sender claims batches of pending rows with a conditional UPDATE and sends them
with bounded concurrency through the bot's one delivery path (``bot.engine.delivery``, seen as ``FanOutDelivery``).
A live sender renews its claims; a process that dies mid-fan-out leaves its
claimed rows behind, and after ``lease`` another sender takes them over. A row
claimed before (a sender died after sending, before recording) is first checked
with ``FanOutDelivery.was_delivered``, so nobody gets the message twice where the
channel can tell and nobody is missed where it cannot.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.messages import Reply
from bot.store import Database, Delivery

__all__ = ["MAX_ATTEMPTS", "WAIT_SECONDS", "FanOutDelivery", "FanOut", "Pacer"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
PROGRESS_SECONDS = 2.0
WAIT_SECONDS = 0.5
RECORD_EVERY = 16
"""Sent rows are recorded this many at a time; a crash leaves at most these (plus those in flight) unrecorded."""
UNREACHABLE = "not reachable on a connected chat platform"


class FanOutDelivery(Protocol):
    """The bot's one delivery path (``bot.engine.delivery.Delivery``) as a fan-out uses it: sending, as
    ``bot.core.outbound.Deliverer`` does, and asking whether a keyed message already reached someone."""

    async def deliver(self, reply: Reply) -> bool:
        """Send ``reply`` to ``reply.to``; False when no connected channel reaches that address."""
        ...

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the channel that reaches ``reply.to`` says the message keyed ``reply.key`` is already there."""
        ...


class Pacer:
    """Spaces sends to at most ``rate`` per second (``HELPDESK_FANOUT_RATE``); no limit when None."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next send may go."""
        if not self.interval:
            return
        async with self.lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self.next_at > now:
                await asyncio.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval


class FanOut:
    """Durable, deduplicated, paced delivery of one message (per recipient) to the recipients of ``batch``."""

    def __init__(self, db: Database, clock: Callable[[], datetime], deliverer: FanOutDelivery, *,
                 lease: timedelta, concurrency: int, rate: float | None) -> None:
        self.db = db
        self.clock = clock
        self.deliverer = deliverer
        self.lease = lease
        self.concurrency = concurrency
        self.rate = rate

    async def add(self, batch: int, recipients: list[str]) -> int:
        """Make the delivery rows of ``batch`` once (those that exist are kept); returns how many recipients."""

        def insert(session: Session) -> None:
            existing = set(session.exec(select(Delivery.recipient).where(Delivery.announcement_id == batch)).all())
            for recipient in recipients:
                if recipient not in existing:
                    session.add(Delivery(announcement_id=batch, recipient=recipient))

        try:
            await self.db.run(insert)
        except IntegrityError:  # a second replica inserted the same rows first; theirs are as good
            pass
        return len(recipients)

    async def counts(self, batch: int) -> dict[str, int]:
        """Deliveries by status."""
        query = (select(Delivery.status, func.count()).where(Delivery.announcement_id == batch)
                 .group_by(Delivery.status))
        return dict(await self.db.run(lambda session: list(session.exec(query).all())))

    async def reached(self, batch: int) -> list[str]:
        """The recipients ``batch`` was sent to, in the order they were listed."""
        query = (select(Delivery.recipient).where(Delivery.announcement_id == batch, Delivery.status == "sent")
                 .order_by(col(Delivery.id)))
        return await self.db.run(lambda session: list(session.exec(query).all()))

    async def unattended(self, batches: list[int]) -> list[int]:
        """Those of ``batches`` with rows still to send and no live claim: their sender died (or never was).

        A sender renews its claims every third of the lease, so no claim younger
        than the lease means nobody is sending.
        """
        now = self.clock()
        live = and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) >= now - self.lease)
        waiting = or_(col(Delivery.status) == "pending",
                      and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) < now - self.lease))

        def find(session: Session) -> list[int]:
            found = []
            for batch in batches:
                mine = col(Delivery.announcement_id) == batch
                if session.exec(select(Delivery.id).where(mine, waiting).limit(1)).first() is not None and \
                        session.exec(select(Delivery.id).where(mine, live).limit(1)).first() is None:
                    found.append(batch)
            return found

        return await self.db.run(find) if batches else []

    async def run(self, batch: int, message: Callable[[str], Reply], progress: Callable[[], Awaitable[None]],
                  label: str) -> None:
        """Send ``message(recipient)`` to every unsent recipient of ``batch``; return when none is left.

        ``progress`` is called every couple of seconds while sending; ``label`` names the fan-out in the log.
        """
        while True:
            if await self._pass(batch, message, progress, label):
                continue  # a row put back to pending (a send that failed and may be retried) gets another pass
            counts = await self.counts(batch)
            if not counts.get("pending") and not counts.get("sending"):
                return
            # Rows held by another sender: it is alive (it renews its claims) and will finish them,
            # or it died and its claims lapse after the lease; then this sender takes them over.
            await asyncio.sleep(WAIT_SECONDS)

    async def _pass(self, batch: int, message: Callable[[str], Reply], progress: Callable[[], Awaitable[None]],
                    label: str) -> int:
        """One pass over the claimable rows: a feeder claims batches, workers send them. Returns how many."""
        workers = self.concurrency
        size = workers * 4
        queue: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=size)
        pacer = Pacer(self.rate)
        outcomes: list[dict[str, Any]] = []
        tokens: list[str] = []
        claimed = 0

        async def feed() -> None:
            nonlocal claimed
            while claims := await self._claim(batch, size):
                claimed += len(claims)
                tokens.append(str(claims[0].claim))
                for delivery in claims:
                    await queue.put(delivery)  # waits while the workers are a batch behind
            for _ in range(workers):
                await queue.put(None)

        async def work() -> None:
            while (delivery := await queue.get()) is not None:
                outcomes.append(await self._send(delivery, message(delivery.recipient), pacer, label))
                if len(outcomes) >= RECORD_EVERY:
                    await self._record(outcomes)

        async def report() -> None:
            renew = min(PROGRESS_SECONDS, self.lease.total_seconds() / 3)
            shown = asyncio.get_running_loop().time()
            while True:
                await asyncio.sleep(renew)
                await self._renew(tokens)
                if asyncio.get_running_loop().time() - shown >= PROGRESS_SECONDS:
                    shown = asyncio.get_running_loop().time()
                    await progress()

        try:
            async with asyncio.TaskGroup() as group:  # one failing (or a dying process) stops them all
                reporter = group.create_task(report())
                group.create_task(feed())
                senders = [group.create_task(work()) for _ in range(workers)]
                await asyncio.gather(*senders)
                reporter.cancel()
        finally:
            await self._record(outcomes)
        return claimed

    async def _send(self, delivery: Delivery, reply: Reply, pacer: Pacer, label: str) -> dict[str, Any]:
        """Send one delivery (paced: a row found already there takes no turn); returns its outcome for ``_record``."""
        status, error = "sent", ""
        try:
            if delivery.attempts > 1 and await self._already_there(reply):
                pass  # a sender died after sending, before recording it: it is there, do not send again
            else:
                await pacer.wait()
                if not await self.deliverer.deliver(reply):
                    status, error = "failed", UNREACHABLE
        except Exception as exc:  # one recipient's failure must not stop the others
            log.warning("%s to %s failed: %s", label, delivery.recipient, exc)
            status = "failed" if delivery.attempts >= MAX_ATTEMPTS else "pending"
            error = str(exc)[:500]
        return {"b_id": delivery.id, "b_claim": delivery.claim, "b_status": status, "b_error": error,
                "b_at": self.clock() if status == "sent" else None}

    async def _already_there(self, reply: Reply) -> bool:
        try:
            return await self.deliverer.was_delivered(reply)
        except Exception as exc:  # cannot tell: sending again beats missing someone
            log.warning("could not check delivery of %s: %s", reply.key, exc)
        return False

    async def _claim(self, batch: int, size: int) -> list[Delivery]:
        """Claim up to ``size`` unsent rows (pending, or abandoned by a dead sender) for this sender."""
        now = self.clock()
        token = secrets.token_hex(8)
        claimable = and_(
            col(Delivery.announcement_id) == batch,
            or_(col(Delivery.status) == "pending",
                and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) < now - self.lease)),
        )

        def claim(session: Session) -> list[Delivery]:
            # Rows another sender is writing right now are skipped, not waited for (PostgreSQL; SQLite
            # has one writer anyway): waiting on them while holding others is how two senders deadlock.
            ids = list(session.exec(select(Delivery.id).where(claimable).order_by(col(Delivery.id)).limit(size)
                                    .with_for_update(skip_locked=True)).all())
            if not ids:
                return []
            session.execute(update(Delivery).where(col(Delivery.id).in_(ids), claimable).values(
                status="sending", claim=token, claimed_at=now, attempts=col(Delivery.attempts) + 1))
            return list(session.exec(select(Delivery).where(Delivery.claim == token).order_by(col(Delivery.id))).all())

        return await self.db.run(claim)

    async def _renew(self, tokens: list[str]) -> None:
        """Keep this sender's claims fresh, so no one takes them over while it is alive."""
        if not tokens:
            return
        now = self.clock()
        mine = and_(col(Delivery.claim).in_(list(tokens)), col(Delivery.status) == "sending")

        def renew(session: Session) -> None:
            # Lock in id order and skip rows being written by another sender, so renewing cannot deadlock.
            ids = list(session.exec(select(Delivery.id).where(mine).order_by(col(Delivery.id))
                                    .with_for_update(skip_locked=True)).all())
            if ids:
                session.execute(update(Delivery).where(col(Delivery.id).in_(ids), mine).values(claimed_at=now))

        await self.db.run(renew)

    async def _record(self, outcomes: list[dict[str, Any]]) -> None:
        """Write what happened to the sent rows, a few at a time (one transaction, only while still ours)."""
        if not outcomes:
            return
        taken = sorted(outcomes, key=lambda outcome: outcome["b_id"])  # one lock order for every sender
        del outcomes[:]
        table = Delivery.__table__  # type: ignore[attr-defined]
        statement = (update(table).where(table.c.id == bindparam("b_id"), table.c.claim == bindparam("b_claim"))
                     .values(status=bindparam("b_status"), error=bindparam("b_error"), sent_at=bindparam("b_at")))
        await self.db.run(lambda session: session.execute(statement, taken))
