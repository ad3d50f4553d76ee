"""The generic fan-out, with a fake delivery path: each recipient once, unreachable ones and retries recorded,
and a row a dead sender already delivered not sent again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.messages import Reply
from bot.services.fanout import MAX_ATTEMPTS, UNREACHABLE, FanOut
from bot.store import Announcement, Database, Delivery
from tests.support import Clock

PEOPLE = [f"user:p{n}@city.example" for n in range(10)]


class FakeDelivery:
    """Reaches everyone except ``unreachable``; ``broken`` always fails; ``arrived`` is what a channel can see."""

    def __init__(self, unreachable: frozenset[str] = frozenset(), broken: frozenset[str] = frozenset()) -> None:
        self.unreachable = unreachable
        self.broken = broken
        self.sent: list[str] = []
        self.arrived: set[str] = set()

    async def deliver(self, reply: Reply) -> bool:
        assert reply.to is not None
        if reply.to in self.broken:
            self.sent.append(reply.to)
            raise RuntimeError("the platform said no")
        if reply.to in self.unreachable:
            return False
        self.sent.append(reply.to)
        return True

    async def was_delivered(self, reply: Reply) -> bool:
        return reply.to in self.arrived


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.close()


def _announcement(db: Database, clock: Clock) -> int:
    row = Announcement(created_by="tom@city.example", title="Test", created_at=clock(), updated_at=clock())

    def add(session: Session) -> int:
        session.add(row)
        session.flush()
        return int(row.id or 0)

    return db.call(add)


def _fanout(db: Database, clock: Clock, delivery: FakeDelivery) -> FanOut:
    return FanOut(db, clock, delivery, lease=timedelta(seconds=30), concurrency=3, rate=None)


async def _nothing() -> None:
    return None


def _message(recipient: str) -> Reply:
    return Reply("hello", to=recipient, key=f"test:{recipient}")


async def test_everyone_once_and_the_unreachable_recorded(db: Database, clock: Clock) -> None:
    batch = _announcement(db, clock)
    delivery = FakeDelivery(unreachable=frozenset({PEOPLE[3]}))
    fanout = _fanout(db, clock, delivery)
    assert await fanout.add(batch, PEOPLE) == len(PEOPLE)
    assert await fanout.add(batch, PEOPLE) == len(PEOPLE)  # listing again adds no second row
    await fanout.run(batch, _message, _nothing, "test")
    assert sorted(delivery.sent) == sorted(p for p in PEOPLE if p != PEOPLE[3])
    assert await fanout.counts(batch) == {"sent": 9, "failed": 1}
    [error] = db.call(lambda s: list(s.exec(select(Delivery.error).where(Delivery.status == "failed")).all()))
    assert error == UNREACHABLE
    assert await fanout.reached(batch) == [p for p in PEOPLE if p != PEOPLE[3]]


async def test_a_failing_send_is_retried_then_given_up(db: Database, clock: Clock) -> None:
    batch = _announcement(db, clock)
    delivery = FakeDelivery(broken=frozenset({PEOPLE[0]}))
    fanout = _fanout(db, clock, delivery)
    await fanout.add(batch, PEOPLE[:2])
    await fanout.run(batch, _message, _nothing, "test")
    assert delivery.sent.count(PEOPLE[0]) == MAX_ATTEMPTS
    assert await fanout.counts(batch) == {"sent": 1, "failed": 1}


async def test_rows_of_a_dead_sender_are_checked_before_sending_again(db: Database, clock: Clock) -> None:
    batch = _announcement(db, clock)
    delivery = FakeDelivery()
    fanout = _fanout(db, clock, delivery)
    await fanout.add(batch, PEOPLE[:3])
    stale = clock() - timedelta(minutes=5)
    db.call(lambda s: s.execute(update(Delivery).where(col(Delivery.announcement_id) == batch)
                                .values(status="sending", claim="dead", claimed_at=stale, attempts=1)))
    assert await fanout.unattended([batch]) == [batch]
    delivery.arrived = {PEOPLE[0]}  # the dead sender got this one out before it died
    await fanout.run(batch, _message, _nothing, "test")
    assert sorted(delivery.sent) == PEOPLE[1:3]
    assert await fanout.counts(batch) == {"sent": 3}
    assert await fanout.unattended([batch]) == []
