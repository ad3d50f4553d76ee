"""The bot's own jobs, registered in one place (``schedule_housekeeping``, at the start of serving).

On the shared scheduler, so one replica fires each round: the ticket outbox
retry and, for Jira, the ticket polling. In every process (local jobs, as the
old ticker ran them): approval expiry, settling the conversation outcomes whose
time is up, and re-reading the knowledge base when its folder changed (each
replica holds its own copy in memory).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from bot.core.settings import Settings
from bot.integrations.kb import KnowledgeBase
from bot.integrations.ticket_jobs import TicketSync, outbox_every
from bot.integrations.tickets import TicketOutbox
from bot.services.scheduler import JobRun, Scheduler

__all__ = ["HOUSEKEEPING_EVERY", "KnowledgeBaseReload", "TicketJobHost", "poll_tickets", "retry_ticket_outbox",
           "schedule_housekeeping", "schedule_ticket_jobs"]

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(seconds=10)
"""How often each process expires approvals, settles outcomes and looks at the knowledge base folder."""


class TicketJobHost(Protocol):
    """What the ticket jobs reach on the scheduler's host."""

    @property
    def tickets_sync(self) -> TicketSync:
        """Tells employees about ticket changes."""
        ...

    @property
    def ticket_outbox(self) -> TicketOutbox:
        """Ticket requests waiting to be filed."""
        ...


async def poll_tickets(host: TicketJobHost, run: JobRun) -> None:
    """Job: one polling round (errors are logged; the next round tries again)."""
    try:
        await host.tickets_sync.poll_once()
    except Exception as exc:  # a job must not die; the log says why
        log.warning("ticket polling failed: %s", exc)


async def retry_ticket_outbox(host: TicketJobHost, run: JobRun) -> None:
    """Job: file the queued ticket requests whose time has come."""
    try:
        await host.ticket_outbox.retry_due()
    except Exception as exc:
        log.warning("ticket outbox retry failed: %s", exc)


def schedule_ticket_jobs(scheduler: Scheduler, settings: Settings, tickets_kind: str) -> None:
    """Put the outbox retry and (for Jira) the polling job on the shared scheduler.

    They are interval jobs in the database, so with several replicas only one
    fires each round (the scheduler's claim). Calling this again at every start
    replaces the jobs with the current settings.
    """
    scheduler.add_interval(retry_ticket_outbox, outbox_every(settings).total_seconds(), id="tickets.outbox")
    interval = settings.jira_poll_interval.total_seconds()
    if tickets_kind != "builtin" and interval > 0:
        scheduler.add_interval(poll_tickets, interval, id="tickets.poll")
    else:
        scheduler.remove("tickets.poll")


class KnowledgeBaseReload:
    """Re-reads a knowledge base when a file in its folder was added, changed or removed."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._signature: tuple[tuple[str, int, int], ...] | None = None

    def __call__(self) -> bool:
        """Reload if the folder changed since the last look; True when it did."""
        folder = self.kb.folder
        files = sorted(folder.glob("*.md")) if folder.is_dir() else []
        signature = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        if signature == self._signature:
            return False
        self.kb.load()
        self._signature = signature
        log.info("knowledge base: %d articles loaded, %d with errors", len(self.kb.articles), len(self.kb.errors))
        return True


def schedule_housekeeping(
    scheduler: Scheduler,
    settings: Settings,
    *,
    tickets_kind: str,
    expire_approvals: Callable[[], Awaitable[int]],
    settle_outcomes: Callable[[], Awaitable[int]],
    reload_kb: Callable[[], bool],
) -> None:
    """Register every job the bot runs for itself (see the module's docstring)."""
    schedule_ticket_jobs(scheduler, settings, tickets_kind)
    scheduler.add_local(expire_approvals, HOUSEKEEPING_EVERY, id="approvals.expire")
    scheduler.add_local(settle_outcomes, HOUSEKEEPING_EVERY, id="outcomes.settle")
    scheduler.add_local(lambda: asyncio.to_thread(reload_kb), HOUSEKEEPING_EVERY, id="kb.reload")
