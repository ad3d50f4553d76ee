"""Announcements: compose, approve, schedule, fan out, follow up, acknowledge and remind.

Every step is a row. An announcement goes draft → (awaiting_approval) →
scheduled | recurring → sending → sent, or cancelled / missed. Sending makes
one ``Delivery`` row per recipient (unique per announcement and recipient),
then claims batches of pending rows with a conditional UPDATE and sends them
with bounded concurrency straight to the channel that reaches each recipient
(what ``Bot.deliver`` does, with the chat accounts looked up once per batch).
A live sender renews its claims; a process that dies mid-fan-out leaves its
claimed rows behind, and after ``lease`` another sender takes them over:
``watch``, on every serving replica, looks for fan-outs that nobody holds a live
claim on and sends the rest of them.
Where the channel can tell whether a message already arrived
(``DeliveryCheck``) it is asked first, so nobody gets the notice twice and
nobody is missed; a channel that cannot tell gets those few rows again.

Threads: each delivered message has the key ``notice:<announcement>:<recipient>``.
A follow-up is sent to everyone the original reached, with ``Reply.thread``
set to that key, so channels that can thread post it under the original.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.messages import TECHNICIANS, Button, Field, Reply, room_address, user_address
from bot.services.approvals import approval_card, decided_card
from bot.services.broadcast_approval import content_digest
from bot.store import (
    Acknowledgement,
    Announcement,
    ChatAccount,
    Delivery,
    EmployeeRecord,
    OutageSubscription,
)
from bot.core.text import neutralise_mentions
from bot.core.timewords import parse_recurrence, parse_schedule, parse_when

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.channels.base import Channel
    from bot.services.scheduler import JobRun

__all__ = [
    "KINDS",
    "AckReport",
    "AnnouncementService",
    "DeliveryCheck",
    "Draft",
    "GroupDirectory",
    "neutralise_mentions",
    "post_approval_job",
    "read_composer",
    "remind_job",
    "send_announcement_job",
    "send_occurrence_job",
]

log = logging.getLogger(__name__)

KINDS = (("outage", "Outage"), ("maintenance", "Maintenance"), ("security", "Security notice"),
         ("general", "General"))
KIND_LABELS = {"outage": "IT outage", "maintenance": "Planned maintenance", "security": "Security notice",
               "general": "IT notice"}
BOARD_KINDS = frozenset({"outage", "maintenance", "security"})
"""Kinds that also go on the notice board, so "is email down?" is answered from them."""
OPEN_STATUSES = ("draft", "awaiting_approval", "scheduled", "recurring")
MAX_ATTEMPTS = 3
PROGRESS_SECONDS = 2.0
WAIT_SECONDS = 0.5
RECORD_EVERY = 16
"""Sent rows are recorded this many at a time; a crash leaves at most these (plus those in flight) unrecorded."""

@runtime_checkable
class GroupDirectory(Protocol):
    """A channel that knows user groups (Slack user groups): who is in ``handle``, as emails."""

    async def group_members(self, handle: str) -> list[str]:
        """The emails of the members of user group ``handle`` (empty when there is no such group)."""
        ...


@runtime_checkable
class DeliveryCheck(Protocol):
    """A channel that can tell whether a message with ``reply.key`` already reached ``reply.to``."""

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is already in the conversation ``reply.to``."""
        ...


# Composing ------------------------------------------------------------------------


@dataclass
class Draft:
    """The composer's values, read and checked."""

    kind: str
    title: str
    body: str
    systems: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    audience: dict[str, Any]
    schedule: str
    send_at: datetime | None
    cron: str | None
    ack_required: bool
    allow_mentions: bool


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", value or "") if part.strip()]


def _yes(value: str) -> bool:
    return str(value).strip().lower() in ("yes", "y", "true", "1", "on")


def read_composer(values: dict[str, str], now: datetime, timezone: str) -> Draft:
    """Read the composer's form values; ValueError with a message for the technician when one is wrong."""
    kind = (values.get("kind") or "general").strip().lower()
    if kind not in dict(KINDS):
        raise ValueError(f"Kind must be one of: {', '.join(k for k, _ in KINDS)}.")
    title = " ".join((values.get("title") or "").split())
    if not title:
        raise ValueError("The announcement needs a title.")
    if len(title) > 200:
        raise ValueError(f"The title is {len(title)} characters long; keep it under 200.")
    body = (values.get("body") or "").strip()
    if len(body) > 3000:
        raise ValueError(f"The message is {len(body):,} characters long; keep it under 3,000.")
    starts_at = ends_at = None
    if (values.get("start") or "").strip():
        starts_at = parse_when(values["start"], now, timezone, today_if_passed=kind == "outage")
    if (values.get("end") or "").strip():
        ends_at = parse_when(values["end"], starts_at or now, timezone)
        if starts_at and ends_at <= starts_at:
            raise ValueError("The expected end is before the start.")
    audience: dict[str, Any] = {
        "all": (values.get("audience") or "all").strip().lower() in ("all", "all staff", "everyone"),
        "departments": _split(values.get("departments", "")),
        "groups": [g.lstrip("@") for g in _split(values.get("groups", ""))],
        "channels": _split(values.get("channels", "")),
    }
    if not audience["all"] and not (audience["departments"] or audience["groups"] or audience["channels"]):
        raise ValueError("Choose all staff, or list departments, user groups or channels.")
    schedule = parse_schedule(values.get("schedule") or "now", now, timezone)
    cron = None
    if schedule.kind == "cron":
        cron = schedule.text
    return Draft(
        kind=kind, title=title, body=body, systems=[s.lower() for s in _split(values.get("systems", ""))],
        starts_at=starts_at, ends_at=ends_at, audience=audience, schedule=schedule.text,
        send_at=schedule.at, cron=cron, ack_required=_yes(values.get("ack", "")),
        allow_mentions=_yes(values.get("mentions", "")),
    )


def composer_values(announcement: Announcement, timezone: str) -> dict[str, str]:
    """An announcement as the composer's values again (to edit it)."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    audience = announcement.audience
    return {
        "kind": announcement.kind, "title": announcement.title, "body": announcement.body,
        "systems": ", ".join(announcement.systems), "start": local(announcement.starts_at),
        "end": local(announcement.ends_at), "audience": "all" if audience.get("all") else "listed",
        "departments": ", ".join(audience.get("departments", [])),
        "groups": ", ".join(audience.get("groups", [])), "channels": ", ".join(audience.get("channels", [])),
        "schedule": announcement.cron or (local(announcement.send_at) if announcement.send_at else "now"),
        "ack": "yes" if announcement.ack_required else "no",
        "mentions": "yes" if announcement.allow_mentions else "no",
    }


# Reports --------------------------------------------------------------------------


@dataclass
class AckReport:
    """Who acknowledged an announcement and who has not yet."""

    announcement: Announcement
    acknowledged: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


# Job functions (top level, ids only: APScheduler stores them by reference) ---------------


async def send_announcement_job(bot: Bot, run: JobRun, announcement_id: int) -> None:
    """A scheduled announcement is due: send it, or report it as missed when far too late."""
    if run.missed:
        await bot.announcements.report_missed(announcement_id, run)
        return
    await bot.announcements.send(announcement_id)


async def send_occurrence_job(bot: Bot, run: JobRun, series_id: int) -> None:
    """A recurring announcement is due: make this occurrence (once, whichever replica) and send it."""
    if run.missed:
        await bot.announcements.report_missed(series_id, run)
        return
    occurrence = await bot.announcements.occurrence(series_id, run.run_time)
    if occurrence is not None:
        await bot.announcements.send(occurrence)


async def post_approval_job(bot: Bot, run: JobRun, approval_id: int) -> None:
    """Post the approval card of a broadcast requested from the command line (the CLI has no chat)."""
    approval = await bot.approvals.get(approval_id)
    if approval is not None and approval.status == "pending":
        await bot.deliver(approval_card(approval, bot.settings.local_time(approval.expires_at)))


async def remind_job(bot: Bot, run: JobRun, announcement_id: int) -> None:
    """Remind those who have not acknowledged yet (late reminders still go: they are still useful)."""
    await bot.announcements.remind(announcement_id)


# The service ----------------------------------------------------------------------


class AnnouncementService:
    """Announcements and their deliveries, for the notices skill and ``helpdesk announce``."""

    def __init__(self, bot: Bot, lease: timedelta = timedelta(seconds=30)) -> None:
        self.bot = bot
        self.db = bot.db
        self.clock = bot.clock
        self.lease = lease
        self._sending: set[int] = set()  # fan-outs this process is running now
        self._taken: set[asyncio.Task[Announcement | None]] = set()  # fan-outs taken over, running

    @property
    def timezone(self) -> str:
        """The city's time zone (``HELPDESK_TIMEZONE``)."""
        return self.bot.settings.timezone

    # Rows -----------------------------------------------------------------------

    async def get(self, announcement_id: int) -> Announcement | None:
        """One announcement by id."""
        return await self.db.run(lambda session: session.get(Announcement, announcement_id))

    async def list(self, limit: int = 20) -> list[Announcement]:
        """The newest announcements that are not follow-ups or occurrences."""
        query = (select(Announcement).where(col(Announcement.parent_id).is_(None))
                 .order_by(col(Announcement.id).desc()).limit(limit))
        return await self.db.run(lambda session: list(session.exec(query).all()))

    async def save_draft(self, draft: Draft, author: str, announcement_id: int | None = None,
                         origin_channel: str = "") -> Announcement:
        """Store the composer's values as a draft (or over an open announcement being edited)."""
        now = self.clock()
        audience = dict(draft.audience)
        if origin_channel:
            audience.setdefault("origin", origin_channel)

        was_awaiting = False

        def store(session: Session) -> Announcement:
            nonlocal was_awaiting
            row = session.get(Announcement, announcement_id) if announcement_id else None
            if row is None or row.status not in OPEN_STATUSES:
                row = Announcement(created_by=author, title=draft.title, created_at=now)
            for name in ("kind", "title", "body", "systems", "starts_at", "ends_at", "schedule", "send_at",
                         "cron", "ack_required", "allow_mentions"):
                setattr(row, name, getattr(draft, name))
            row.audience = audience
            row.updated_at = now
            row.approved_by = row.approved_digest = None  # an approval covers only what it was asked about
            was_awaiting = row.status == "awaiting_approval"
            if was_awaiting:
                row.status = "draft"
            session.add(row)
            session.flush()
            session.refresh(row)
            return row

        row = await self.db.run(store)
        if was_awaiting:
            await self._withdraw_approvals(int(row.id or 0), author)
        return row

    async def _withdraw_approvals(self, announcement_id: int, by: str) -> None:
        """The notice changed while it waited: its approval requests are withdrawn and their cards say so."""
        for approval in await self.bot.approvals.withdraw("notices", "broadcast", by,
                                                          announcement_id=announcement_id):
            await self.bot.deliver(decided_card(approval))

    def approval_data(self, row: Announcement) -> dict[str, Any]:
        """What a broadcast's approval request stores: the notice and the digest of exactly what it says."""
        return {"announcement_id": row.id, "digest": content_digest(row)}

    async def _set(self, announcement_id: int, *, only_from: Iterable[str] | None = None, **values: Any) -> bool:
        """Change the row's fields; with ``only_from`` only while its status is one of those. True if changed."""
        values.setdefault("updated_at", self.clock())
        query = update(Announcement).where(col(Announcement.id) == announcement_id)
        if only_from is not None:
            query = query.where(col(Announcement.status).in_(list(only_from)))
        return await self.db.run(
            lambda session: session.execute(query.values(**values)).rowcount == 1  # type: ignore[attr-defined]
        )

    def needs_approval(self, announcement: Announcement) -> bool:
        """True when this is a broadcast to all staff and two-person approval is on."""
        return bool(announcement.audience.get("all")) and self.bot.settings.broadcast_two_person

    # Releasing: now, at a time, recurring -------------------------------------------

    async def release(self, announcement_id: int, approved_by: str | None = None, *,
                      digest: str | None = None, defer: bool = False) -> Announcement:
        """Send now, schedule, or start the series. The caller has checked the role.

        A broadcast that needs approval is released only with the approver and
        the digest their approval request stored, and only while the notice
        still says exactly that.

        ``defer`` schedules a "now" notice for the serving bot instead of sending it
        here (``helpdesk announce create`` has no chat channels of its own).
        """
        row = await self.get(announcement_id)
        if row is None or row.status not in OPEN_STATUSES:
            raise ValueError(f"notice #{announcement_id} is not waiting to be sent")
        if self.needs_approval(row):
            if not approved_by or digest != content_digest(row):
                await self._set(announcement_id, status="draft", approved_by=None, approved_digest=None,
                                only_from=OPEN_STATUSES)
                raise ValueError(f"notice #{announcement_id} was changed after approval was asked for, so it "
                                 "is kept as a draft: ask for approval again")
            await self._set(announcement_id, approved_by=approved_by, approved_digest=digest)
        elif approved_by:
            await self._set(announcement_id, approved_by=approved_by)
        if row.cron:
            trigger = parse_recurrence(row.cron, self.timezone)
            assert trigger is not None
            await self._set(announcement_id, status="recurring")
            self.bot.scheduler.add_cron(send_occurrence_job, trigger, id=_series_job(announcement_id),
                                        args=(announcement_id,), name=f"notice #{announcement_id}: {row.title}")
        elif defer or (row.send_at and row.send_at > self.clock()):
            await self._set(announcement_id, status="scheduled")
            self.bot.scheduler.add_at(send_announcement_job, row.send_at or self.clock(), id=_send_job(announcement_id),
                                      args=(announcement_id,), name=f"notice #{announcement_id}: {row.title}")
        else:
            await self._set(announcement_id, status="scheduled")
            await self.send(announcement_id)
        fresh = await self.get(announcement_id)
        assert fresh is not None
        return fresh

    async def _still_approved(self, row: Announcement) -> bool:
        """A broadcast (or an occurrence of an approved series) says exactly what was approved."""
        if row.parent_id is not None:
            return True  # a follow-up of a sent notice, by its technicians
        approved = await self.get(row.series_id) if row.series_id is not None else row
        if approved is None or not self.needs_approval(approved):
            return True
        return approved.approved_digest is not None and approved.approved_digest == content_digest(approved)

    async def hold_for_approval(self, announcement_id: int) -> bool:
        """Mark the announcement as waiting for a second technician; its schedule is paused until then."""
        self.bot.scheduler.remove(_send_job(announcement_id))
        self.bot.scheduler.remove(_series_job(announcement_id))
        return await self._set(announcement_id, status="awaiting_approval", only_from=OPEN_STATUSES)

    async def back_to_draft(self, announcement_id: int) -> bool:
        """An approval was denied or expired: the announcement waits as a draft."""
        return await self._set(announcement_id, status="draft", only_from=("awaiting_approval",))

    async def cancel(self, announcement_id: int, by: str) -> bool:
        """Cancel an announcement that has not gone out (or stop a series). False when too late."""
        changed = await self._set(announcement_id, status="cancelled", only_from=OPEN_STATUSES)
        if changed:
            self.bot.scheduler.remove(_send_job(announcement_id))
            self.bot.scheduler.remove(_series_job(announcement_id))
            await self.bot.audit.record(by, "notice.cancel", target=f"notice #{announcement_id}")
        return changed

    async def occurrence(self, series_id: int, run_time: datetime) -> int | None:
        """This run's occurrence of a series, made once (unique series and time); None if the series ended."""
        series = await self.get(series_id)
        if series is None or series.status != "recurring":
            return None

        def make(session: Session) -> int:
            row = Announcement(
                kind=series.kind, title=series.title, body=series.body, systems=list(series.systems),
                audience=dict(series.audience), schedule=series.schedule, ack_required=series.ack_required,
                allow_mentions=series.allow_mentions, status="scheduled", created_by=series.created_by,
                approved_by=series.approved_by, series_id=series_id, occurrence_at=run_time,
                created_at=self.clock(), updated_at=self.clock(),
            )
            session.add(row)
            session.flush()
            return int(row.id or 0)

        try:
            return await self.db.run(make)
        except IntegrityError:  # made already (a resumed run): send whatever of it is left
            query = select(Announcement.id).where(Announcement.series_id == series_id,
                                                  Announcement.occurrence_at == run_time)
            return await self.db.run(lambda session: session.exec(query).first())

    async def report_missed(self, announcement_id: int, run: JobRun) -> None:
        """A run came far too late (the bot was down): do not send, tell the author and the technicians."""
        row = await self.get(announcement_id)
        if row is None:
            return
        if not row.cron:
            await self._set(announcement_id, status="missed", only_from=("scheduled",))
        minutes = int(run.late.total_seconds() // 60)
        text = (f"Notice #{announcement_id} \"{neutralise_mentions(row.title)}\" was due at "
                f"{self.bot.settings.local_time(run.run_time)} but the bot was not running; it is "
                f"{minutes} minutes late, past the grace time, so it was NOT sent. Send it again if it still applies.")
        await self.bot.audit.record("scheduler", "notice.missed", target=f"notice #{announcement_id}",
                                    outcome="missed", detail=f"{minutes} minutes late")
        await self.bot.deliver(Reply(text, to=TECHNICIANS))

    # Audience ---------------------------------------------------------------------

    async def recipients(self, announcement: Announcement) -> tuple[list[str], list[str]]:
        """The addresses to send to (no duplicates, never the author), and problems to tell the author."""
        audience = announcement.audience
        problems: list[str] = []
        emails: set[str] = set()
        rooms: list[str] = []
        if audience.get("all"):
            emails |= set(await self.db.run(
                lambda session: list(session.exec(select(ChatAccount.email).distinct()).all())))
        departments = [d.lower() for d in audience.get("departments", [])]
        if departments:
            query = (select(EmployeeRecord.email, EmployeeRecord.department)
                     .join(ChatAccount, col(ChatAccount.email) == col(EmployeeRecord.email)))
            found = await self.db.run(lambda session: list(session.exec(query).all()))
            matched = {(dept or "").lower() for _, dept in found}
            emails |= {email for email, dept in found if (dept or "").lower() in departments}
            problems += [f"nobody the bot can reach is in department {d!r}" for d in departments if d not in matched]
        groups = audience.get("groups", [])
        if groups:
            directories = [c for c in self.bot.channels.values() if isinstance(c, GroupDirectory)]
            if not directories:
                problems.append(f"no connected chat platform knows user groups, so {', '.join(groups)} "
                                "were skipped")
            for handle in groups:
                members: list[str] = []
                for directory in directories:
                    members += await directory.group_members(handle)
                if directories and not members:
                    problems.append(f"user group {handle!r} has no members the bot knows")
                emails |= {m.lower() for m in members}
        for entry in audience.get("channels", []):
            address = self._room(entry, audience.get("origin", ""))
            if address is None:
                problems.append(f"channel {entry!r} is not on a connected chat platform")
            else:
                rooms.append(address)
        emails.discard(announcement.created_by.lower())
        addresses = [user_address(e) for e in sorted(emails)] + list(dict.fromkeys(rooms))
        return addresses, problems

    def _room(self, entry: str, origin: str) -> str | None:
        entry = entry.strip().lstrip("#")
        name, sep, conversation = entry.partition(":")
        if sep and name in self.bot.channels:
            return room_address(name, conversation)
        channel = origin if origin in self.bot.channels else next(iter(self.bot.channels), None)
        return room_address(channel, entry) if channel else None

    # Fan-out ------------------------------------------------------------------------

    async def send(self, announcement_id: int, *, resuming: bool = False) -> Announcement | None:
        """Send (or go on sending) an announcement to its audience; returns it as it ended.

        ``resuming`` (at start-up) also finishes listing the recipients when the
        process that started the send died while doing so.
        """
        row = await self.get(announcement_id)
        if row is None or row.status not in ("scheduled", "sending"):
            return row
        if row.status == "scheduled" and not await self._still_approved(row):
            log.warning("notice #%s changed after its approval; not sent, kept as a draft", announcement_id)
            await self._set(announcement_id, status="draft", approved_by=None, approved_digest=None,
                            only_from=("scheduled",))
            await self.bot.audit.record("system", "notice.refused", target=f"notice #{announcement_id}",
                                        outcome="refused", detail="changed after approval")
            return await self.get(announcement_id)
        if row.status == "scheduled":
            if not await self._set(announcement_id, status="sending", only_from=("scheduled",)):
                return await self.get(announcement_id)  # another replica started it
            await self._prepare(row)
        elif row.sent_at is None:  # its recipients are still being listed (or that process died doing so)
            if not resuming:
                return row
            await self._prepare(row)
        self._sending.add(announcement_id)
        try:
            await self._fan_out(announcement_id)
        finally:
            self._sending.discard(announcement_id)
        return await self.get(announcement_id)

    async def _prepare(self, row: Announcement) -> None:
        """Make the delivery rows (and the notice board entry) once."""
        assert row.id is not None
        if row.parent_id is not None:
            recipients = await self.db.run(lambda session: list(session.exec(
                select(Delivery.recipient).where(Delivery.announcement_id == row.parent_id,
                                                 Delivery.status == "sent").order_by(col(Delivery.id))).all()))
            problems: list[str] = []
        else:
            recipients, problems = await self.recipients(row)
        now = self.clock()
        announcement_id = row.id

        def insert(session: Session) -> int:
            existing = set(session.exec(select(Delivery.recipient).where(
                Delivery.announcement_id == announcement_id)).all())
            for recipient in recipients:
                if recipient not in existing:
                    session.add(Delivery(announcement_id=announcement_id, recipient=recipient))
            return len(recipients)

        try:
            total = await self.db.run(insert)
        except IntegrityError:  # a second replica inserted the same rows first; theirs are as good
            total = len(recipients)
        values: dict[str, Any] = {"total": total, "sent_at": now}
        if row.parent_id is None and row.series_id is None and row.kind in BOARD_KINDS and row.notice_id is None:
            notice = await self.bot.notices.post(kind=row.kind, title=row.title, body=row.body,
                                                 systems=list(row.systems), author=row.created_by)
            values["notice_id"] = notice.id
        await self._set(announcement_id, **values)
        for problem in problems:
            await self.bot.deliver(Reply(f"Notice #{announcement_id}: {problem}.",
                                         to=user_address(row.created_by), private=True))
        await self.bot.deliver(Reply(f"Sending notice #{announcement_id} to {total:,} recipients.",
                                     to=user_address(row.created_by), key=f"notice-progress:{announcement_id}"))

    async def _fan_out(self, announcement_id: int) -> None:
        row = await self.get(announcement_id)
        assert row is not None
        while True:
            if await self._pass(row):
                continue  # a row put back to pending (a send that failed and may be retried) gets another pass
            counts = await self.counts(announcement_id)
            if not counts.get("pending") and not counts.get("sending"):
                break
            # Rows held by another sender: it is alive (it renews its claims) and will finish them,
            # or it died and its claims lapse after the lease; then this sender takes them over.
            await asyncio.sleep(WAIT_SECONDS)
        await self._finish(announcement_id)

    async def _pass(self, row: Announcement) -> int:
        """One pass over the claimable rows: a feeder claims batches, workers send them. Returns how many."""
        workers = self.bot.settings.fanout_concurrency
        size = workers * 4
        queue: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=size)
        pacer = _Pacer(self.bot.settings.fanout_rate)
        parent_key = row.parent_id or row.id
        channels: dict[str, Channel | None] = {}
        outcomes: list[dict[str, Any]] = []
        tokens: list[str] = []
        claimed = 0

        async def feed() -> None:
            nonlocal claimed
            while batch := await self._claim_batch(int(row.id or 0), size):
                claimed += len(batch)
                tokens.append(str(batch[0].claim))
                channels.update(await self._channels([d.recipient for d in batch]))
                for delivery in batch:
                    await queue.put(delivery)  # waits while the workers are a batch behind
            for _ in range(workers):
                await queue.put(None)

        async def work() -> None:
            while (delivery := await queue.get()) is not None:
                outcomes.append(await self._deliver(row, delivery, parent_key, channels.get(delivery.recipient),
                                                    pacer))
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
                    await self._progress(int(row.id or 0))

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

    async def _claim_batch(self, announcement_id: int, size: int) -> list[Delivery]:
        """Claim up to ``size`` unsent rows (pending, or abandoned by a dead sender) for this sender."""
        now = self.clock()
        token = secrets.token_hex(8)
        claimable = and_(
            col(Delivery.announcement_id) == announcement_id,
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

    def message(self, row: Announcement, recipient: str, parent_key: int | None) -> Reply:
        """The message one recipient gets (defused text, acknowledgement button, thread of the original)."""
        label = KIND_LABELS.get(row.kind, "IT notice")
        if row.parent_id is not None:
            label = "Update"
        lines = [f"{label}: {neutralise_mentions(row.title)}"]
        if row.body:
            lines.append(neutralise_mentions(row.body))
        fields: list[Field] = []
        if row.systems:
            fields.append(Field("Affected", ", ".join(self.bot.system_name(s) for s in row.systems)))
        if row.starts_at:
            fields.append(Field("From", self.bot.settings.local_time(row.starts_at)))
        if row.ends_at:
            fields.append(Field("Expected end", self.bot.settings.local_time(row.ends_at)))
        buttons: tuple[Button, ...] = ()
        if row.ack_required:
            buttons = (Button(f"skill:notices:ack:{row.id}", "I have read this", "primary"),)
        thread = f"notice:{parent_key}:{recipient}" if row.parent_id is not None else None
        mention = "channel" if row.allow_mentions and recipient.startswith("room:") else None
        return Reply("\n".join(lines), buttons, tuple(fields), to=recipient, key=f"notice:{row.id}:{recipient}",
                     thread=thread, mention=mention)  # type: ignore[arg-type]

    async def _deliver(self, row: Announcement, delivery: Delivery, parent_key: int | None,
                       channel: Channel | None, pacer: _Pacer) -> dict[str, Any]:
        """Send one delivery (paced: a row found already there takes no turn); returns its outcome for ``_record``."""
        reply = self.message(row, delivery.recipient, parent_key)
        status, error = "sent", ""
        try:
            if channel is None:
                status, error = "failed", "not reachable on a connected chat platform"
            elif delivery.attempts > 1 and await self._already_there(channel, reply):
                pass  # a sender died after sending, before recording it: it is there, do not send again
            else:
                if reply.to and reply.to.startswith("room:"):
                    reply = reply.addressed(reply.to.removeprefix("room:").partition(":")[2])
                await pacer.wait()
                await channel.send(reply, None)  # what Bot.deliver does, with the account looked up per batch
        except Exception as exc:  # one recipient's failure must not stop the others
            log.warning("notice #%s to %s failed: %s", row.id, delivery.recipient, exc)
            status = "failed" if delivery.attempts >= MAX_ATTEMPTS else "pending"
            error = str(exc)[:500]
        return {"b_id": delivery.id, "b_claim": delivery.claim, "b_status": status, "b_error": error,
                "b_at": self.clock() if status == "sent" else None}

    async def _channels(self, addresses: list[str]) -> dict[str, Channel | None]:
        """The connected channel that reaches each address (one query for the people's chat accounts)."""
        emails = [a.removeprefix("user:") for a in addresses if a.startswith("user:")]
        query = (select(ChatAccount.email, ChatAccount.channel).where(col(ChatAccount.email).in_(emails))
                 .order_by(col(ChatAccount.updated_at)))
        latest = dict(await self.db.run(lambda session: list(session.exec(query).all()))) if emails else {}
        found: dict[str, Channel | None] = {}
        for address in addresses:
            if address.startswith("room:"):
                found[address] = self.bot.channels.get(address.removeprefix("room:").partition(":")[0])
            elif address.startswith("user:") and address.removeprefix("user:") in latest:
                found[address] = self.bot.channels.get(latest[address.removeprefix("user:")])
            else:
                found[address] = None
        return found

    async def _already_there(self, channel: Channel, reply: Reply) -> bool:
        if isinstance(channel, DeliveryCheck):
            try:
                return await channel.was_delivered(reply)
            except Exception as exc:  # cannot tell: sending again beats missing someone
                log.warning("could not check delivery of %s: %s", reply.key, exc)
        return False

    async def counts(self, announcement_id: int) -> dict[str, int]:
        """Deliveries by status."""
        query = (select(Delivery.status, func.count()).where(Delivery.announcement_id == announcement_id)
                 .group_by(Delivery.status))
        return dict(await self.db.run(lambda session: list(session.exec(query).all())))  # type: ignore[arg-type]

    async def _progress(self, announcement_id: int, done: bool = False) -> None:
        row = await self.get(announcement_id)
        assert row is not None
        counts = await self.counts(announcement_id)
        sent, failed, total = counts.get("sent", 0), counts.get("failed", 0), sum(counts.values())
        await self._set(announcement_id, sent=sent, failed=failed, total=total)
        if done:
            people = "person" if sent == 1 else "people"
            text = f"Sent notice #{announcement_id} to {sent:,} {people}."
            if failed:
                text += f" {failed:,} could not be reached."
        else:
            text = f"Sending notice #{announcement_id}: sent {sent:,} of {total:,}."
        key = f"notice-progress:{announcement_id}"
        buttons: tuple[Button, ...] = ()
        if done and row.parent_id is None:
            buttons = (Button(f"skill:notices:update:{announcement_id}", "Post an update"),
                       Button(f"skill:notices:resolve:{announcement_id}", "Resolved"))
            if row.ack_required:
                buttons += (Button(f"skill:notices:who:{announcement_id}", "Who has read it"),)
        reply = Reply(text, buttons, to=user_address(row.created_by), key=key, replaces=key)
        await self.bot.deliver(reply)

    async def _finish(self, announcement_id: int) -> None:
        counts = await self.counts(announcement_id)
        if counts.get("pending") or counts.get("sending"):
            return  # another sender is still on it; it finishes the job
        if not await self._set(announcement_id, status="sent", only_from=("sending",)):
            return
        await self._progress(announcement_id, done=True)
        row = await self.get(announcement_id)
        assert row is not None
        await self.bot.audit.record(row.created_by, "notice.sent", target=f"notice #{announcement_id}",
                                    detail=f"{counts.get('sent', 0)} sent, {counts.get('failed', 0)} unreachable")
        if row.ack_required:
            self.bot.scheduler.add_at(remind_job, self.clock() + self.bot.settings.ack_reminder,
                                      id=f"notice-remind:{announcement_id}", args=(announcement_id,),
                                      name=f"reminders for notice #{announcement_id}")

    async def resume(self) -> int:
        """Go on with every fan-out a stopped process left unfinished; returns how many."""
        query = select(Announcement.id).where(Announcement.status == "sending")
        ids = await self.db.run(lambda session: list(session.exec(query).all()))
        for announcement_id in ids:
            await self.send(int(announcement_id), resuming=True)
        return len(ids)

    async def watch(self) -> None:
        """While serving: resume what a stopped process left, then take over fan-outs whose sender died."""
        try:
            await self.resume()
        except Exception:  # keep watching; the next round tries again
            log.exception("could not resume unfinished announcements")
        every = min(WAIT_SECONDS, self.lease.total_seconds() / 4)
        while True:
            await asyncio.sleep(every)
            try:
                await self.take_over()
            except Exception:
                log.exception("could not look for abandoned fan-outs")

    async def take_over(self) -> list[int]:
        """Start sending (in the background) every fan-out that no live sender holds; returns their ids.

        A sender renews its claims every third of the lease, so a fan-out with rows still
        to send and no claim younger than the lease has lost its sender (or never had one).
        """
        now = self.clock()
        live = and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) >= now - self.lease)
        waiting = or_(col(Delivery.status) == "pending",
                      and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) < now - self.lease))

        def abandoned(session: Session) -> list[int]:
            rows = session.exec(select(Announcement).where(Announcement.status == "sending")).all()
            found = []
            for row in rows:
                if row.id is None or row.id in self._sending:
                    continue
                if row.sent_at is None:  # still being listed: abandoned when nobody touched it for a lease
                    if row.updated_at < now - self.lease:
                        found.append(row.id)
                    continue
                mine = col(Delivery.announcement_id) == row.id
                if session.exec(select(Delivery.id).where(mine, waiting).limit(1)).first() is not None and \
                        session.exec(select(Delivery.id).where(mine, live).limit(1)).first() is None:
                    found.append(row.id)
            return found

        ids = await self.db.run(abandoned)
        for announcement_id in ids:
            log.info("notice #%s: its sender stopped; taking the fan-out over", announcement_id)
            self._sending.add(announcement_id)  # so the next look does not start it a second time
            task = asyncio.create_task(self._send_taken(announcement_id))
            self._taken.add(task)
            task.add_done_callback(self._taken.discard)
        return ids

    async def drain(self) -> None:
        """Wait for the fan-outs taken over in the background to finish."""
        while self._taken:
            await asyncio.gather(*list(self._taken), return_exceptions=True)

    async def _send_taken(self, announcement_id: int) -> Announcement | None:
        try:
            return await self.send(announcement_id, resuming=True)
        finally:
            self._sending.discard(announcement_id)

    # Follow-ups ---------------------------------------------------------------------

    async def follow_up(self, root_id: int, text: str, by: str, *, resolved: bool = False) -> Announcement:
        """Post an update (or "resolved") in the thread of the original, to everyone it reached."""
        root = await self.get(root_id)
        if root is None or root.parent_id is not None:
            raise ValueError(f"there is no notice #{root_id}")
        if root.status not in ("sent", "sending"):
            raise ValueError(f"notice #{root_id} has not gone out yet; edit or cancel it instead")
        title = f"Resolved: {root.title}" if resolved else root.title
        now = self.clock()
        child = Announcement(kind=root.kind, title=title, body=text.strip(), systems=list(root.systems),
                             audience={}, status="scheduled", created_by=by, parent_id=root_id,
                             created_at=now, updated_at=now)

        def add(session: Session) -> Announcement:
            session.add(child)
            session.flush()
            session.refresh(child)
            return child

        child = await self.db.run(add)
        await self.bot.audit.record(by, "notice.resolve" if resolved else "notice.update",
                                    target=f"notice #{root_id}")
        await self.send(int(child.id or 0))
        if resolved:
            if root.notice_id is not None:
                await self.bot.notices.resolve(root.notice_id)
            await self._tell_subscribers(root)
        sent = await self.get(int(child.id or 0))
        assert sent is not None
        return sent

    async def latest_update(self, root_id: int) -> Announcement | None:
        """The newest follow-up of an announcement."""
        query = (select(Announcement).where(Announcement.parent_id == root_id)
                 .order_by(col(Announcement.id).desc()).limit(1))
        return await self.db.run(lambda session: session.exec(query).first())

    async def for_notice(self, notice_id: int) -> Announcement | None:
        """The announcement that put notice ``notice_id`` on the board."""
        query = select(Announcement).where(Announcement.notice_id == notice_id)
        return await self.db.run(lambda session: session.exec(query).first())

    async def subscribe(self, system: str, email: str) -> bool:
        """Remember to tell ``email`` when ``system`` is resolved; False when already asked."""
        row = OutageSubscription(system=system.lower(), email=email.lower(), created_at=self.clock())
        try:
            await self.db.run(lambda session: session.add(row))
        except IntegrityError:
            return False
        return True

    async def _tell_subscribers(self, root: Announcement) -> None:
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
            await self.bot.deliver(Reply(
                f"Good news: {self.bot.system_name(subscription.system)} is working again "
                f"({neutralise_mentions(root.title)}). "
                "If it still isn't working for you, tell me and I'll open a ticket.",
                to=user_address(subscription.email), private=True))

    # Acknowledgements and reminders ------------------------------------------------------

    async def acknowledge(self, announcement_id: int, email: str) -> bool:
        """Record "I have read this"; False when it was recorded already."""
        row = Acknowledgement(announcement_id=announcement_id, email=email.lower(), at=self.clock())
        try:
            await self.db.run(lambda session: session.add(row))
        except IntegrityError:
            return False
        return True

    async def report(self, announcement_id: int) -> AckReport | None:
        """Who acknowledged and who has not (among the people it reached directly)."""
        row = await self.get(announcement_id)
        if row is None:
            return None

        def read(session: Session) -> tuple[list[str], list[str]]:
            acked = list(session.exec(select(Acknowledgement.email).where(
                Acknowledgement.announcement_id == announcement_id).order_by(col(Acknowledgement.email))).all())
            reached = session.exec(select(Delivery.recipient).where(
                Delivery.announcement_id == announcement_id, Delivery.status == "sent")).all()
            people = sorted(r.removeprefix("user:") for r in reached if r.startswith("user:"))
            done = set(acked)
            return acked, [p for p in people if p not in done]

        acknowledged, pending = await self.db.run(read)
        return AckReport(row, acknowledged, pending)

    async def remind(self, announcement_id: int) -> int:
        """Remind (once, in the thread) everyone who has not acknowledged; returns how many."""
        row = await self.get(announcement_id)
        if row is None or not row.ack_required or row.status != "sent":
            return 0
        now = self.clock()

        def take(session: Session) -> list[str]:
            acked = select(Acknowledgement.email).where(Acknowledgement.announcement_id == announcement_id)
            acked_addresses = {user_address(e) for e in session.exec(acked).all()}
            due = [d for d in session.exec(select(Delivery).where(
                Delivery.announcement_id == announcement_id, Delivery.status == "sent",
                col(Delivery.reminded_at).is_(None))).all()
                if d.recipient.startswith("user:") and d.recipient not in acked_addresses]
            for delivery in due:
                delivery.reminded_at = now
                session.add(delivery)
            return [d.recipient for d in due]

        recipients = await self.db.run(take)
        for recipient in recipients:
            await self.bot.deliver(Reply(
                f"Reminder: please read this IT notice and click \"I have read this\": "
                f"{neutralise_mentions(row.title)}",
                (Button(f"skill:notices:ack:{announcement_id}", "I have read this", "primary"),),
                to=recipient, thread=f"notice:{announcement_id}:{recipient}", private=True))
        if recipients:
            await self.bot.deliver(Reply(f"Reminded {len(recipients)} people who had not yet read notice "
                                         f"#{announcement_id}.", to=user_address(row.created_by), private=True))
        return len(recipients)


def _send_job(announcement_id: int) -> str:
    return f"notice:{announcement_id}"


def _series_job(announcement_id: int) -> str:
    return f"notice-series:{announcement_id}"


class _Pacer:
    """Spaces sends to at most ``rate`` per second (``HELPDESK_FANOUT_RATE``); no limit when None."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self.lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self.next_at > now:
                await asyncio.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval
