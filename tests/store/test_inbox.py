"""The inbox: an item is stored and claimed before the ack, a repeat is dropped, a dead replica's item is
taken over once its claim lapses, and one that keeps killing its handler is given up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.services.inbox import MAX_ATTEMPTS, Inbox
from bot.store import Database, InboxEntry
from tests.support import Clock

LEASE = timedelta(seconds=30)


async def test_a_repeat_is_dropped_while_the_first_is_claimed_or_done(database: Database, clock: Clock) -> None:
    one = Inbox(database, clock, LEASE, "one")
    two = Inbox(database, clock, LEASE, "two")
    handled: list[str] = []

    async def handle(entry: InboxEntry) -> None:
        handled.append(entry.key)

    one.register("slack", handle)
    entry = await one.accept("slack", "Ev001", "message", {"body": {"text": "hi"}})
    assert entry is not None and (entry.state, entry.claimed_by, entry.attempts) == ("working", "one", 1)
    assert await two.accept("slack", "Ev001", "message", {"body": {}}) is None  # claimed by a live replica
    assert await two.accept("teams", "Ev001", "message", {}) is not None  # keys are per channel
    await one.process(entry)
    clock.advance(minutes=5)
    assert await two.accept("slack", "Ev001", "message", {}) is None  # done: a late retry changes nothing
    assert handled == ["Ev001"]
    assert [(e.channel, e.key) for e in await one.pending()] == [("teams", "Ev001")]
    first, second = await one.accept("slack", "", "click", {}), await one.accept("slack", "", "click", {})
    assert first is not None and second is not None and first.key != second.key  # no id: never a repeat


async def test_a_dead_replica_s_items_are_taken_over_after_the_lease(database: Database, clock: Clock) -> None:
    dead = Inbox(database, clock, LEASE, "dead")
    survivor = Inbox(database, clock, LEASE, "survivor")
    handled: list[tuple[str, dict[str, object]]] = []

    async def handle(entry: InboxEntry) -> None:
        handled.append((entry.key, entry.payload))

    survivor.register("slack", handle)
    for n in range(3):
        assert await dead.accept("slack", f"Ev{n}", "message", {"n": n}) is not None
    assert await survivor.take_over() == 0  # the claims are fresh: the dead one may still be alive
    clock.advance(seconds=31)
    retried = await survivor.accept("slack", "Ev0", "message", {"n": 0})  # a Slack retry finds it lapsed
    assert retried is not None and (retried.claimed_by, retried.attempts) == ("survivor", 2)
    await survivor.process(retried)
    assert await survivor.take_over() == 2
    await survivor.drain()
    assert sorted(handled) == [("Ev0", {"n": 0}), ("Ev1", {"n": 1}), ("Ev2", {"n": 2})]
    assert await survivor.pending() == [] and await survivor.take_over() == 0


async def test_an_item_that_fails_is_not_run_again_and_one_that_kills_is_given_up(database: Database,
                                                                                  clock: Clock) -> None:
    inbox = Inbox(database, clock, LEASE, "one")
    runs: list[str] = []

    async def handle(entry: InboxEntry) -> None:
        runs.append(entry.key)
        raise RuntimeError("a bug")

    inbox.register("slack", handle)
    failing = await inbox.accept("slack", "EvBUG", "message", {})
    assert failing is not None
    try:
        await inbox.process(failing)
    except RuntimeError:
        pass
    assert await inbox.accept("slack", "EvKILL", "message", {}) is not None
    for attempt in range(2, MAX_ATTEMPTS + 2):  # each replica that takes it over dies (no outcome is written)
        clock.advance(seconds=31)
        taken = await inbox.take_over()
        running = list(inbox._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        assert taken == (1 if attempt <= MAX_ATTEMPTS else 0)
    states = database.call(lambda session: {e.key: (e.state, e.attempts) for e in
                                            session.exec(select(InboxEntry)).all()})
    assert states == {"EvBUG": ("failed", 1), "EvKILL": ("failed", MAX_ATTEMPTS + 1)}
    assert runs.count("EvBUG") == 1


async def test_handled_items_are_forgotten_after_a_day(database: Database, clock: Clock) -> None:
    inbox = Inbox(database, clock, LEASE, "one")

    async def handle(entry: InboxEntry) -> None:
        return None

    inbox.register("slack", handle)
    entry = await inbox.accept("slack", "EvOLD", "message", {})
    assert entry is not None
    await inbox.process(entry)
    assert await inbox.prune() == 0
    clock.advance(days=1, seconds=1)
    assert await inbox.prune() == 1
    assert await inbox.accept("slack", "EvOLD", "message", {}) is not None  # no longer known: a new event
