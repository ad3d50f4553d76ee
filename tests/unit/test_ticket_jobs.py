"""The ticket jobs: interval jobs on the shared scheduler, and the retry backoff."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.integrations.ticket_jobs import OUTBOX_EVERY
from bot.integrations.tickets import backoff
from bot.services.housekeeping import (
    HOUSEKEEPING_EVERY,
    poll_tickets,
    retry_ticket_outbox,
    schedule_housekeeping,
    schedule_ticket_jobs,
)
from bot.services.scheduler import JobRun
from tests.support import Clock


def test_backoff_doubles_up_to_the_ceiling() -> None:
    """30 s, 1 min, 2 min, 4 min ... never more than the ceiling."""
    ceiling = timedelta(minutes=5)
    assert [backoff(n, ceiling).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 300]


async def test_the_outbox_retry_is_a_shared_interval_job(bot: Bot, clock: Clock) -> None:
    """The retry is stored on the shared scheduler and fires once per round; no polling without Jira."""
    schedule_ticket_jobs(bot.scheduler, bot.settings, bot.tickets.kind)
    assert bot.scheduler.get("tickets.outbox") is not None
    assert bot.scheduler.get("tickets.poll") is None
    assert await bot.scheduler.run_due() == 0
    clock.advance(seconds=OUTBOX_EVERY.total_seconds() + 1)
    assert await bot.scheduler.run_due() == 1
    assert await bot.scheduler.run_due() == 0  # the same round never fires twice
    [claim] = await bot.scheduler.claims("tickets.outbox")
    assert claim.outcome == "done"


async def test_scheduling_again_replaces_the_jobs(bot: Bot) -> None:
    """Every start schedules the jobs anew: still one job of each id."""
    schedule_ticket_jobs(bot.scheduler, bot.settings, bot.tickets.kind)
    schedule_ticket_jobs(bot.scheduler, bot.settings, bot.tickets.kind)
    assert [job.id for job in bot.scheduler.jobs()].count("tickets.outbox") == 1


async def test_a_failing_job_logs_and_lives(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A job that fails logs one warning and returns, so the scheduler keeps it."""
    run = JobRun("tickets.poll", bot.clock(), timedelta(0), False)
    bot.db.close()  # the database is gone
    with caplog.at_level(logging.WARNING):
        await poll_tickets(bot, run)
        await retry_ticket_outbox(bot, run)
    assert "ticket polling failed" in caplog.text and "ticket outbox retry failed" in caplog.text


async def test_housekeeping_is_registered_in_one_place(bot: Bot, clock: Clock) -> None:
    """The ticket jobs are stored; approval expiry, outcome settling and the KB reload run in this process."""
    ran: list[str] = []

    async def expire() -> int:
        ran.append("expire")
        return 0

    async def settle() -> int:
        ran.append("settle")
        return 0

    def reload_kb() -> bool:
        ran.append("kb")
        return False

    schedule_housekeeping(bot.scheduler, bot.settings, tickets_kind="builtin", expire_approvals=expire,
                          settle_outcomes=settle, reload_kb=reload_kb)
    assert [job.id for job in bot.scheduler.jobs()] == ["tickets.outbox"]
    clock.advance(seconds=HOUSEKEEPING_EVERY.total_seconds() + 1)
    assert await bot.scheduler.run_local_due() == 3
    assert sorted(ran) == ["expire", "kb", "settle"]
