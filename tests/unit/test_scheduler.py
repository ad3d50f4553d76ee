"""The shared scheduler on SQLite and PostgreSQL: interval jobs, one-shot jobs, claims, misfires, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import inspect

from bot.app import Bot
from bot.services.scheduler import JobRun
from tests.support import Clock, make_settings

RUNS: list[tuple[str, str, bool]] = []


async def record_job(bot: Bot, run: JobRun, label: str) -> None:
    """A job that notes who ran it."""
    RUNS.append((label, bot.scheduler.replica, run.missed))


async def failing_job(bot: Bot, run: JobRun) -> None:
    """A job that fails."""
    raise RuntimeError("boom")


@pytest.fixture
def two(database_url: str, clock: Clock) -> Iterator[tuple[Bot, Bot]]:
    """Two bots (replicas) on one database, with a shared clock."""
    RUNS.clear()
    bots = (Bot(make_settings(database_url), clock=clock), Bot(make_settings(database_url), clock=clock))
    for bot in bots:
        bot.db.migrate()
        bot.scheduler.start()
    yield bots
    for bot in bots:
        bot.close()


async def test_the_job_table_comes_from_the_migration(two: tuple[Bot, Bot]) -> None:
    """apscheduler_jobs and job_claim exist after migrating."""
    tables = set(inspect(two[0].db.engine).get_table_names())
    assert {"apscheduler_jobs", "job_claim"} <= tables


async def test_interval_job_runs_on_the_clock_once_per_period(two: tuple[Bot, Bot], clock: Clock) -> None:
    """An interval job (the Jira poller's kind) runs when its time comes, once per period, on one replica."""
    one, other = two
    one.scheduler.add_interval(record_job, 60, id="poll", args=("poll",))
    assert await one.scheduler.run_due() == 0
    clock.advance(seconds=61)
    counts = await asyncio.gather(one.scheduler.run_due(), other.scheduler.run_due())
    assert sum(counts) == 1 and [r[0] for r in RUNS] == ["poll"]
    clock.advance(minutes=10)  # nine periods missed while stopped: one run (coalesced), never "missed"
    assert await other.scheduler.run_due() == 1
    assert [r[2] for r in RUNS] == [False, False]
    job = one.scheduler.get("poll")
    assert job is not None and job.next_run_time > clock()


async def test_a_job_added_by_one_process_is_fired_by_another(two: tuple[Bot, Bot], clock: Clock) -> None:
    """The job store is shared: the CLI adds, the serving bot fires; a removed job does not fire."""
    one, other = two
    one.scheduler.add_at(record_job, clock() + timedelta(minutes=5), id="once", args=("once",))
    one.scheduler.add_at(record_job, clock() + timedelta(minutes=5), id="gone", args=("gone",))
    assert one.scheduler.remove("gone") and not one.scheduler.remove("gone")
    assert [job.id for job in other.scheduler.jobs()] == ["once"]
    clock.advance(minutes=6)
    assert await other.scheduler.run_due() == 1
    assert await one.scheduler.run_due() == 0
    assert [r[0] for r in RUNS] == ["once"] and other.scheduler.get("once") is None


async def test_misfire_grace(two: tuple[Bot, Bot], clock: Clock) -> None:
    """Within the grace time a late job runs; past it, the job is told it was missed."""
    one, _ = two
    one.scheduler.add_at(record_job, clock() + timedelta(minutes=1), id="late", args=("late",))
    one.scheduler.add_at(record_job, clock() + timedelta(minutes=2), id="later", args=("later",))
    clock.advance(minutes=10)
    await one.scheduler.run_due()
    clock.advance(hours=1)
    assert RUNS[0][:1] == ("late",) and RUNS[0][2] is False
    one.scheduler.add_at(record_job, clock() - timedelta(hours=1), id="stale", args=("stale",))
    await one.scheduler.run_due()
    assert [(r[0], r[2]) for r in RUNS] == [("late", False), ("later", False), ("stale", True)]
    assert [c.outcome for c in await one.scheduler.claims("stale")] == ["missed"]


async def test_a_failing_job_is_recorded_and_the_rest_go_on(two: tuple[Bot, Bot], clock: Clock) -> None:
    """One job's exception is logged and recorded; the others still run."""
    one, _ = two
    one.scheduler.add_at(failing_job, clock() + timedelta(seconds=1), id="bad")
    one.scheduler.add_at(record_job, clock() + timedelta(seconds=1), id="good", args=("good",))
    clock.advance(seconds=2)
    assert await one.scheduler.run_due() == 2
    assert [c.outcome for c in await one.scheduler.claims("bad")] == ["failed"]
    assert [r[0] for r in RUNS] == ["good"]


def test_only_top_level_functions_with_matching_arguments(two: tuple[Bot, Bot], clock: Clock) -> None:
    """Closures cannot be stored; wrong arguments are refused when the job is added."""
    one, _ = two

    async def inner(bot: Bot, run: JobRun) -> None:
        """Not storable."""

    with pytest.raises(ValueError, match="not a top-level function"):
        one.scheduler.add_at(inner, clock() + timedelta(minutes=1), id="x")
    with pytest.raises(ValueError):
        one.scheduler.add_at(record_job, clock() + timedelta(minutes=1), id="y", args=("a", "b"))


async def test_old_claims_are_pruned(two: tuple[Bot, Bot], clock: Clock) -> None:
    """Claims older than a week are deleted."""
    one, _ = two
    one.scheduler.add_at(record_job, clock() + timedelta(seconds=1), id="old", args=("old",))
    clock.advance(seconds=2)
    await one.scheduler.run_due()
    clock.advance(days=8)
    assert await one.scheduler.prune() == 1
    assert await one.scheduler.claims("old") == []


async def test_a_one_shot_and_an_interval_job_fire_from_the_store(two: tuple[Bot, Bot], clock: Clock) -> None:
    """A job added for a time and one added to run every so often are stored; the scheduler fires both."""
    one, _ = two
    one.scheduler.add_at(record_job, clock() + timedelta(minutes=1), id="at-a-time", args=("at",))
    one.scheduler.add_interval(record_job, 300, id="every", args=("every",))
    clock.advance(minutes=6)
    assert await one.scheduler.run_due() == 2
    assert sorted(r[0] for r in RUNS) == ["at", "every"]


async def test_local_jobs_run_in_each_process_and_are_never_stored(two: tuple[Bot, Bot], clock: Clock) -> None:
    """A local job (what each replica keeps in memory) runs on its own period in every process, unclaimed."""
    one, other = two
    ran: list[str] = []

    async def note(name: str) -> None:
        ran.append(name)

    one.scheduler.add_local(lambda: note("one"), timedelta(seconds=10), id="kb.reload")
    other.scheduler.add_local(lambda: note("other"), timedelta(seconds=10), id="kb.reload")
    assert await one.scheduler.run_local_due() == 0
    clock.advance(seconds=11)
    assert [await one.scheduler.run_local_due(), await other.scheduler.run_local_due()] == [1, 1]
    assert await one.scheduler.run_local_due() == 0  # not again until its period is over
    assert sorted(ran) == ["one", "other"]
    assert one.scheduler.get("kb.reload") is None and await one.scheduler.claims("kb.reload") == []


async def test_a_failing_local_job_is_logged_and_runs_again(two: tuple[Bot, Bot], clock: Clock,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """A local job that fails logs its error; the next period runs it again."""
    one, _ = two
    calls: list[int] = []

    async def fail() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    one.scheduler.add_local(fail, timedelta(seconds=10), id="approvals.expire")
    clock.advance(seconds=11)
    assert await one.scheduler.run_local_due() == 1
    clock.advance(seconds=11)
    assert await one.scheduler.run_local_due() == 1
    assert len(calls) == 2 and "local job approvals.expire failed" in caplog.text
