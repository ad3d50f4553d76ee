"""Announcements: compose, approve, schedule, send, follow up, acknowledge and remind.

Every step is a row. An announcement goes draft → (awaiting_approval) →
scheduled | recurring → sending → sent, or cancelled / missed. This module
keeps that life cycle and the scheduler's jobs; the steps are in their own
modules: the composer (``announcement_composer``), the audience
(``announcement_audience``), sending (``announcement_sending``, over the
generic ``fanout``), acknowledgements and outage subscriptions. The buttons
on the messages come from the skill that answers them (``NoticeButtons``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.channels.base import Channel
from bot.core.messages import TECHNICIANS, Reply
from bot.core.settings import Settings
from bot.core.text import neutralise_mentions
from bot.core.timewords import parse_recurrence
from bot.services.acknowledgements import Acknowledgements
from bot.services.announcement_audience import AudienceResolver
from bot.services.announcement_composer import Draft
from bot.services.announcement_rows import OPEN_STATUSES, AnnouncementRows
from bot.services.announcement_sending import AnnouncementSender
from bot.services.approvals import ApprovalService, approval_card, decided_card
from bot.services.audit import AuditLog
from bot.services.broadcast_approval import content_digest, needs_approval
from bot.services.fanout import FanOut, FanOutDelivery
from bot.services.notice_buttons import NO_BUTTONS, NoticeButtons
from bot.services.notices import NoticeBoard
from bot.services.outage_subscriptions import OutageSubscriptions
from bot.store import Announcement, Database
from bot.store.views import AnnouncementView

if TYPE_CHECKING:
    from bot.services.scheduler import JobRun, Scheduler

__all__ = [
    "AnnouncementService",
    "JobHost",
    "post_approval_job",
    "remind_job",
    "send_announcement_job",
    "send_occurrence_job",
]


# Job functions (top level, ids only: APScheduler stores them by reference, so they stay in this module) ---


class JobHost(Protocol):
    """What the jobs below use of the bot the scheduler hands them."""

    @property
    def announcements(self) -> AnnouncementService:
        """The announcement service."""
        ...

    @property
    def approvals(self) -> ApprovalService:
        """The approval requests."""
        ...

    @property
    def settings(self) -> Settings:
        """The bot's settings."""
        ...

    async def deliver(self, reply: Reply) -> bool:
        """Send ``reply`` to ``reply.to`` (the one delivery path)."""
        ...


async def send_announcement_job(bot: JobHost, run: JobRun, announcement_id: int) -> None:
    """A scheduled announcement is due: send it, or report it as missed when far too late."""
    if run.missed:
        await bot.announcements.report_missed(announcement_id, run)
        return
    await bot.announcements.send(announcement_id)


async def send_occurrence_job(bot: JobHost, run: JobRun, series_id: int) -> None:
    """A recurring announcement is due: make this occurrence (once, whichever replica) and send it."""
    if run.missed:
        await bot.announcements.report_missed(series_id, run)
        return
    occurrence = await bot.announcements.occurrence(series_id, run.run_time)
    if occurrence is not None:
        await bot.announcements.send(occurrence)


async def post_approval_job(bot: JobHost, run: JobRun, approval_id: int) -> None:
    """Post the approval card of a broadcast requested from the command line (the CLI has no chat)."""
    approval = await bot.approvals.get(approval_id)
    if approval is not None and approval.status == "pending":
        await bot.deliver(approval_card(approval, bot.settings.local_time(approval.expires_at)))


async def remind_job(bot: JobHost, run: JobRun, announcement_id: int) -> None:
    """Remind those who have not acknowledged yet (late reminders still go: they are still useful)."""
    await bot.announcements.remind(announcement_id)


def _send_job(announcement_id: int) -> str:
    return f"notice:{announcement_id}"


def _series_job(announcement_id: int) -> str:
    return f"notice-series:{announcement_id}"


# The service ----------------------------------------------------------------------


class AnnouncementService:
    """Announcements and their deliveries, for the notices skill and ``helpdesk announce``.

    Fan-outs go through ``deliverer`` (the bot's one delivery path); ``buttons``
    are those of the skill that answers notices' clicks.
    """

    def __init__(self, db: Database, clock: Callable[[], datetime], settings: Settings, *, deliverer: FanOutDelivery,
                 channels: Mapping[str, Channel], approvals: ApprovalService, audit: AuditLog, board: NoticeBoard,
                 scheduler: Scheduler, system_name: Callable[[str], str],
                 buttons: NoticeButtons = NO_BUTTONS) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.deliverer = deliverer
        self.approvals = approvals
        self.audit = audit
        self.board = board
        self.scheduler = scheduler
        self.rows = AnnouncementRows(db, clock)
        self.fanout = FanOut(db, clock, deliverer, lease=settings.lease, concurrency=settings.fanout_concurrency,
                             rate=settings.fanout_rate)
        self.sender = AnnouncementSender(
            self.rows, self.fanout, AudienceResolver(db, channels), board=board, audit=audit,
            deliver=deliverer.deliver, buttons=buttons, settings=settings, system_name=system_name,
            on_sent=self._schedule_reminders)
        self.acknowledgements = Acknowledgements(db, clock, deliverer.deliver, buttons)
        self.subscriptions = OutageSubscriptions(db, clock, deliverer.deliver, system_name)
        # What the skill and the command line call, as they are:
        self.get = self.rows.get
        self.list = self.rows.newest
        self.latest_update = self.rows.latest_update
        self.for_notice = self.rows.for_notice
        self.send = self.sender.send
        self.message = self.sender.message
        self.resume = self.sender.resume
        self.watch = self.sender.watch
        self.take_over = self.sender.take_over
        self.drain = self.sender.drain
        self.counts = self.fanout.counts
        self.acknowledge = self.acknowledgements.acknowledge
        self.report = self.acknowledgements.report
        self.remind = self.acknowledgements.remind
        self.subscribe = self.subscriptions.subscribe

    @property
    def lease(self) -> timedelta:
        """How long a sender's claims hold without being renewed (``HELPDESK_LEASE``)."""
        return self.fanout.lease

    @lease.setter
    def lease(self, value: timedelta) -> None:
        self.fanout.lease = value

    @property
    def timezone(self) -> str:
        """The city's time zone (``HELPDESK_TIMEZONE``)."""
        return self.settings.timezone

    async def _set(self, announcement_id: int, *, only_from: Iterable[str] | None = None, **values: Any) -> bool:
        """Change the row's fields; with ``only_from`` only while its status is one of those. True if changed."""
        return await self.rows.set(announcement_id, only_from=only_from, **values)

    # Drafts and approval --------------------------------------------------------------

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
        for approval in await self.approvals.withdraw("notices", "broadcast", by,
                                                          announcement_id=announcement_id):
            await self.deliverer.deliver(decided_card(approval))

    def approval_data(self, row: Announcement) -> dict[str, Any]:
        """What a broadcast's approval request stores: the notice and the digest of exactly what it says."""
        return {"announcement_id": row.id, "digest": content_digest(row)}

    def needs_approval(self, announcement: AnnouncementView) -> bool:
        """True when this is a broadcast to all staff and two-person approval is on."""
        return needs_approval(announcement, self.settings.broadcast_two_person)

    async def hold_for_approval(self, announcement_id: int) -> bool:
        """Mark the announcement as waiting for a second technician; its schedule is paused until then."""
        self.scheduler.remove(_send_job(announcement_id))
        self.scheduler.remove(_series_job(announcement_id))
        return await self._set(announcement_id, status="awaiting_approval", only_from=OPEN_STATUSES)

    async def back_to_draft(self, announcement_id: int) -> bool:
        """An approval was denied or expired: the announcement waits as a draft."""
        return await self._set(announcement_id, status="draft", only_from=("awaiting_approval",))

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
            self.scheduler.add_cron(send_occurrence_job, trigger, id=_series_job(announcement_id),
                                        args=(announcement_id,), name=f"notice #{announcement_id}: {row.title}")
        elif defer or (row.send_at and row.send_at > self.clock()):
            await self._set(announcement_id, status="scheduled")
            self.scheduler.add_at(send_announcement_job, row.send_at or self.clock(), id=_send_job(announcement_id),
                                      args=(announcement_id,), name=f"notice #{announcement_id}: {row.title}")
        else:
            await self._set(announcement_id, status="scheduled")
            await self.send(announcement_id)
        fresh = await self.get(announcement_id)
        assert fresh is not None
        return fresh

    async def cancel(self, announcement_id: int, by: str) -> bool:
        """Cancel an announcement that has not gone out (or stop a series). False when too late."""
        changed = await self._set(announcement_id, status="cancelled", only_from=OPEN_STATUSES)
        if changed:
            self.scheduler.remove(_send_job(announcement_id))
            self.scheduler.remove(_series_job(announcement_id))
            await self.audit.record(by, "notice.cancel", target=f"notice #{announcement_id}")
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
                f"{self.settings.local_time(run.run_time)} but the bot was not running; it is "
                f"{minutes} minutes late, past the grace time, so it was NOT sent. Send it again if it still applies.")
        await self.audit.record("scheduler", "notice.missed", target=f"notice #{announcement_id}",
                                    outcome="missed", detail=f"{minutes} minutes late")
        await self.deliverer.deliver(Reply(text, to=TECHNICIANS))

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
        await self.audit.record(by, "notice.resolve" if resolved else "notice.update",
                                    target=f"notice #{root_id}")
        await self.send(int(child.id or 0))
        if resolved:
            if root.notice_id is not None:
                await self.board.resolve(root.notice_id)
            await self.subscriptions.resolved(root)
        sent = await self.get(int(child.id or 0))
        assert sent is not None
        return sent

    def _schedule_reminders(self, row: Announcement) -> None:
        """A sent notice that asks to be acknowledged: remind the rest after ``HELPDESK_ACK_REMINDER``."""
        if row.ack_required:
            self.scheduler.add_at(remind_job, self.clock() + self.settings.ack_reminder,
                                      id=f"notice-remind:{row.id}", args=(int(row.id or 0),),
                                      name=f"reminders for notice #{row.id}")
