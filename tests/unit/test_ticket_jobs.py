"""The ticket jobs: scheduled as top-level functions in an AsyncIOScheduler, and the retry backoff."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.integrations.ticket_jobs import OUTBOX_EVERY, poll_tickets, retry_ticket_outbox, start_ticket_jobs
from bot.integrations.ticket_outbox import backoff


def test_backoff_doubles_up_to_the_ceiling() -> None:
    """30 s, 1 min, 2 min, 4 min ... never more than the ceiling."""
    ceiling = timedelta(minutes=5)
    assert [backoff(n, ceiling).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 300]


async def test_jobs_run_in_the_event_loop(bot: Bot) -> None:
    """The outbox retry is scheduled (top-level function, the bot as its argument); no polling without Jira."""
    scheduler = start_ticket_jobs(bot)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"tickets.outbox"}
        assert jobs["tickets.outbox"].func is retry_ticket_outbox
        assert jobs["tickets.outbox"].args == (bot,)
        assert jobs["tickets.outbox"].trigger.interval == OUTBOX_EVERY
    finally:
        scheduler.shutdown(wait=False)


async def test_a_failing_job_logs_and_lives(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A job that fails logs one warning and returns, so the scheduler keeps it."""
    bot.db.close()  # the database is gone
    with caplog.at_level(logging.WARNING):
        await poll_tickets(bot)
        await retry_ticket_outbox(bot)
    assert "ticket polling failed" in caplog.text and "ticket outbox retry failed" in caplog.text
