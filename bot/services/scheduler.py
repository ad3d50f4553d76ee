"""The shared scheduler: APScheduler 3 jobs kept in our database, fired once across all replicas.

Jobs live in APScheduler's ``SQLAlchemyJobStore`` (table ``apscheduler_jobs``,
created by our migration), so a scheduled or recurring job survives a restart
and a job added by one process (``helpdesk announce create``) is seen by the
bot. APScheduler 3 cannot share a job store between schedulers, and it reads
the wall clock, so it is used here for what it does well (the job store,
triggers, serialisation and the job API) while ``Scheduler.run_due`` fires the
due jobs:

* **One replica fires each run.** Before running a job, a replica inserts a
  ``job_claim`` row keyed by (job id, run time). The unique key lets exactly
  one insert succeed, on SQLite and PostgreSQL alike; the others skip the run.
* **Misfires.** A run that is late by less than the job's grace time
  (``HELPDESK_SCHEDULE_GRACE``) runs late; an older one is passed to the job
  with ``run.missed`` set, so it can report it instead of acting.
* **A controllable clock.** ``run_due`` uses the bot's clock, so tests move
  time by hand and call ``await bot.scheduler.run_due()``.

A job function is a top-level ``async def job(host, run, *ids)``: ``host`` is
what the scheduler was built with (the app, which each job types by the
narrow Protocol it uses), ``run`` is a ``JobRun``, and the stored arguments are
ids only, never objects.

A local job (``add_local``) is not stored: each process runs its own, for what
every replica keeps in memory (the knowledge base).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import check_callable_args, obj_to_ref, ref_to_obj
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store import SCHEDULER_JOBS, Database, JobClaim

__all__ = ["JobFunction", "JobRun", "Scheduler", "stored_job"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
"""How often the loop looks for jobs added by other processes (scheduled sends are at most this late)."""
CLAIM_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class JobRun:
    """One run of a job: when it was due, how late it is, and whether it is past its grace time."""

    job_id: str
    run_time: datetime
    late: timedelta
    missed: bool


JobFunction = Callable[..., Awaitable[None]]
"""``async def job(host, run: JobRun, *ids) -> None``, defined at the top level of a module."""

LocalJob = Callable[[], Awaitable[object]]
"""``async def job() -> ...``: a job this process runs on its own, never stored."""


async def stored_job(func_ref: str, *args: Any) -> None:
    """What APScheduler stores for every job: the job function's reference and its ids.

    ``Scheduler.run_due`` resolves the reference and calls ``func(host, run, *args)``;
    APScheduler itself never calls this (it cannot know the host).
    """
    raise RuntimeError(f"job {func_ref} must be fired by bot.services.scheduler.Scheduler, not by APScheduler")


class _StoreOnlyScheduler(BaseScheduler):  # type: ignore[misc]  # APScheduler 3 ships no type information
    """APScheduler's scheduler kept paused: its job store and job API, but it never fires jobs itself."""

    def wakeup(self) -> None:
        """Nothing to do: ``Scheduler.run_due`` fires the jobs."""

    def shutdown(self, wait: bool = True) -> None:
        """Stop, without waiting for executors (none run here)."""
        super().shutdown(wait=False)


class Scheduler:
    """Adds, lists and removes persistent jobs, and fires the due ones exactly once across replicas."""

    def __init__(
        self,
        host: object,
        db: Database,
        clock: Callable[[], datetime],
        grace: timedelta,
        replica: str | None = None,
    ) -> None:
        """``host`` is passed to every stored job as its first argument."""
        self.host = host
        self.db = db
        self.clock = clock
        self.grace = grace
        self.replica = replica or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._store = SQLAlchemyJobStore(engine=db.engine, tablename=SCHEDULER_JOBS.name)
        self._aps = _StoreOnlyScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "misfire_grace_time": max(int(grace.total_seconds()), 1)}
        )
        self._aps.add_jobstore(self._store, "default")
        self._running: set[asyncio.Task[None]] = set()
        self._local: dict[str, tuple[LocalJob, timedelta]] = {}
        self._local_due: dict[str, datetime] = {}

    # Life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Open the job store (the migration has created its table)."""
        if not self._aps.running:
            self._aps.start(paused=True)

    def shutdown(self) -> None:
        """Close the job store."""
        if self._aps.running:
            self._aps.shutdown()

    # Adding and removing jobs -------------------------------------------------

    def add(
        self,
        func: JobFunction,
        trigger: BaseTrigger,
        *,
        id: str,
        args: tuple[Any, ...] = (),
        name: str = "",
        grace: timedelta | None | bool = True,
    ) -> Job:
        """Store job ``id`` (replacing one of that id) to run ``func(host, run, *args)`` on ``trigger``.

        ``grace`` is how late a run may still go: True for ``HELPDESK_SCHEDULE_GRACE``,
        None for "always run, however late".
        """
        self.start()
        grace_seconds: int | None
        if grace is True:
            grace_seconds = max(int(self.grace.total_seconds()), 1)
        elif grace is None or grace is False:
            grace_seconds = None
        else:
            grace_seconds = max(int(grace.total_seconds()), 1)
        next_run = trigger.get_next_fire_time(None, self.clock())
        if next_run is None:
            raise ValueError(f"job {id!r} would never run: its trigger has no time after now")
        try:
            func_ref = obj_to_ref(func)
        except ValueError:
            raise ValueError(f"job {id!r}: {func!r} is not a top-level function, so it cannot be stored") from None
        check_callable_args(func, (None, None, *args), {})
        options: dict[str, Any] = {"id": id, "name": name or id, "args": (func_ref, *args), "replace_existing": True,
                                   "misfire_grace_time": grace_seconds, "next_run_time": next_run}
        try:
            return self._aps.add_job(stored_job, trigger, **options)
        except ConflictingIdError:  # added by another process between our lookup and insert
            self.remove(id)
            return self._aps.add_job(stored_job, trigger, **options)

    def add_at(self, func: JobFunction, when: datetime, *, id: str, args: tuple[Any, ...] = (),
               name: str = "") -> Job:
        """Run once at ``when``."""
        return self.add(func, DateTrigger(run_date=when, timezone=UTC), id=id, args=args, name=name)

    def add_cron(self, func: JobFunction, trigger: CronTrigger, *, id: str, args: tuple[Any, ...] = (),
                 name: str = "") -> Job:
        """Run on a cron trigger (see ``bot.core.timewords.parse_recurrence``)."""
        return self.add(func, trigger, id=id, args=args, name=name)

    def add_interval(self, func: JobFunction, seconds: float, *, id: str, args: tuple[Any, ...] = (),
                     name: str = "") -> Job:
        """Run every ``seconds``, first ``seconds`` from now; a late run always goes (only the latest one)."""
        start = self.clock() + timedelta(seconds=seconds)
        trigger = IntervalTrigger(seconds=seconds, start_date=start, timezone=UTC)
        return self.add(func, trigger, id=id, args=args, name=name, grace=None)

    def add_local(self, func: LocalJob, every: timedelta, *, id: str) -> None:
        """Run ``func()`` in this process every ``every`` while ``run_forever`` runs (replacing a local job of
        that id); it is never stored, and every replica runs its own."""
        self._local[id] = (func, every)
        self._local_due[id] = self.clock() + every

    def remove(self, id: str) -> bool:
        """Remove job ``id``; False when there was none."""
        self.start()
        try:
            self._aps.remove_job(id)
        except JobLookupError:
            return False
        return True

    def get(self, id: str) -> Job | None:
        """Job ``id``, or None."""
        self.start()
        return self._store.lookup_job(id)

    def jobs(self) -> list[Job]:
        """Every stored job, soonest first."""
        self.start()
        jobs: list[Job] = self._store.get_all_jobs()
        return jobs

    # Firing -------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None, *, wait: bool = True) -> int:
        """Fire every job due at ``now`` (the bot's clock by default) that no other replica claimed.

        Returns how many runs this replica claimed. With ``wait=False`` the runs go on
        in the background (the serving loop); tests keep the default and see them finish.
        """
        self.start()
        now = now or self.clock()
        due = await self.db.run(lambda _session: self._store.get_due_jobs(now))
        started: list[asyncio.Task[None]] = []
        for job in due:
            run_times = job._get_run_times(now)
            if job.coalesce:
                run_times = run_times[-1:]
            if not run_times:
                continue
            await self.db.run(functools.partial(self._advance_in, job, run_times[-1], now))
            for run_time in run_times:
                if not await self._claim(job.id, run_time):
                    continue
                late = now - run_time
                missed = job.misfire_grace_time is not None and late.total_seconds() > job.misfire_grace_time
                run = JobRun(job.id, run_time, late, missed)
                task = asyncio.create_task(self._run(job, run))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
                started.append(task)
        if wait and started:
            await asyncio.gather(*started)
        return len(started)

    def _advance_in(self, job: Job, last_run: datetime, now: datetime, _session: object) -> None:
        """``_advance`` as a database call (the session is not needed: the job store has its own)."""
        self._advance(job, last_run, now)

    def _advance(self, job: Job, last_run: datetime, now: datetime) -> None:
        """Move the job to its next run time, or remove it when it has none (APScheduler's own rule)."""
        next_run = job.trigger.get_next_fire_time(last_run, now)
        try:
            if next_run:
                job._modify(next_run_time=next_run)
                self._store.update_job(job)
            else:
                self._store.remove_job(job.id)
        except JobLookupError:  # another replica removed it, or the job was cancelled meanwhile
            pass

    async def _claim(self, job_id: str, run_time: datetime) -> bool:
        """Insert the (job, run time) claim; False when another replica has it."""
        claim = JobClaim(job_id=job_id, run_time=run_time, claimed_by=self.replica, claimed_at=self.clock())
        try:
            await self.db.run(lambda session: session.add(claim))
        except IntegrityError:
            return False
        return True

    async def _run(self, job: Job, run: JobRun) -> None:
        outcome = "missed" if run.missed else "done"
        try:
            func_ref, *args = job.args
            await ref_to_obj(func_ref)(self.host, run, *args)
        except Exception:
            outcome = "failed"
            log.exception("scheduled job %s (due %s) failed", job.id, run.run_time.isoformat())
        await self.db.run(lambda session: self._record(session, run, outcome))

    def _record(self, session: Session, run: JobRun, outcome: str) -> None:
        claim = session.exec(
            select(JobClaim).where(JobClaim.job_id == run.job_id, JobClaim.run_time == run.run_time)
        ).first()
        if claim is not None:
            claim.outcome = outcome
            session.add(claim)

    async def claims(self, job_id: str) -> list[JobClaim]:
        """The recorded runs of ``job_id``, oldest first (who fired it, and how it ended)."""
        query = select(JobClaim).where(JobClaim.job_id == job_id).order_by(col(JobClaim.run_time))
        return await self.db.run(lambda session: list(session.exec(query).all()))

    async def prune(self) -> int:
        """Forget claims older than a week (their runs can no longer be due)."""
        cutoff = self.clock() - CLAIM_RETENTION
        return await self.db.run(lambda session: int(session.execute(  # type: ignore[attr-defined]
            delete(JobClaim).where(col(JobClaim.claimed_at) < cutoff)
        ).rowcount or 0))

    async def run_local_due(self) -> int:
        """Run the local jobs that are due, one after another; returns how many ran."""
        now, ran = self.clock(), 0
        for id, (func, every) in list(self._local.items()):
            if self._local_due.get(id, now) > now:
                continue
            self._local_due[id] = now + every
            ran += 1
            try:
                await func()
            except Exception:
                log.exception("local job %s failed", id)
        return ran

    async def next_wait(self) -> float:
        """Seconds until the soonest stored job is due, at most ``POLL_SECONDS``."""
        soonest = await self.db.run(lambda _session: self._store.get_next_run_time())
        if soonest is None:
            return POLL_SECONDS
        wait: float = max(0.0, min(POLL_SECONDS, (soonest - self.clock()).total_seconds()))
        return wait

    async def run_forever(self) -> None:
        """Fire due jobs until cancelled (the serving loop of ``helpdesk run``)."""
        self.start()
        pruned_at = self.clock()
        while True:
            try:
                await self.run_due(wait=False)
                await self.run_local_due()
                if self.clock() - pruned_at > timedelta(hours=1):
                    await self.prune()
                    pruned_at = self.clock()
                wait = await self.next_wait()
            except Exception:  # keep firing; a database blip is logged and retried
                log.exception("scheduler loop failed; retrying")
                wait = 5.0
            await asyncio.sleep(wait)

    async def drain(self) -> None:
        """Wait for runs started in the background to finish."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
