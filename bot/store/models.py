"""The tables. Every piece of state the bot keeps is a row here, never only in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, LargeBinary, Table, Text, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AccountRequest",
    "Acknowledgement",
    "Announcement",
    "Approval",
    "Delivery",
    "JobClaim",
    "KbQuery",
    "OutageReport",
    "OutageSubscription",
    "SCHEDULER_JOBS",
    "AuditEntry",
    "ChatAccount",
    "Conversation",
    "ConversationState",
    "EmployeeRecord",
    "InboxEntry",
    "Notice",
    "ProcessedEvent",
    "SlackMessage",
    "Ticket",
    "TicketComment",
    "TeamsConversation",
    "TeamsMessage",
    "TicketLink",
    "TicketOutboxEntry",
    "TicketSyncMark",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, as an aware UTC datetime: the form every timestamp column takes and returns."""
    return datetime.now(UTC)


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: type(default)(), sa_column=Column(JSON, nullable=False))


class EmployeeRecord(SQLModel, table=True):
    """An employee the bot has met, keyed by email."""

    __tablename__ = "employee"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True, max_length=320)
    display_name: str = Field(default="", max_length=200)
    department: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class ChatAccount(SQLModel, table=True):
    """A chat user (Slack user id, Teams object id, console email) and where to reach them."""

    __tablename__ = "chat_account"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=200)
    email: str = Field(index=True, max_length=320)
    private_conversation: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


class ConversationState(SQLModel, table=True):
    """What the bot is waiting for from one person in one conversation."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("channel", "conversation_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    conversation_id: str = Field(max_length=200)
    user_id: str = Field(max_length=200)
    pending: dict[str, Any] = _json({})
    last_intent: str | None = Field(default=None, max_length=64)
    last_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    misses: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """One employee's request, from its first message until its outcome (see ``bot.services.outcomes``).

    ``outcome`` is ``open`` or ``answered`` while it is still going, then one of the final outcomes;
    ``escalation`` says how an escalated one was escalated; ``missed_text`` is the last message of it
    the bot did not understand.
    """

    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_email_id", "email", "id"),
                      Index("ix_conversation_outcome_updated", "outcome", "updated_at"))

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    channel: str = Field(max_length=20)
    department: str = Field(default="", max_length=200)
    skill: str = Field(max_length=64)
    intent: str = Field(default="", max_length=64)
    topic: str = Field(default="", max_length=200)
    first_text: str = Field(default="", max_length=500)
    missed_text: str | None = Field(default=None, max_length=500)
    outcome: str = Field(default="open", max_length=20)
    escalation: str | None = Field(default=None, max_length=16)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None
    ended_at: datetime | None = None


class ProcessedEvent(SQLModel, table=True):
    """An incoming event id already handled; the unique key makes retries no-ops."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    received_at: datetime = Field(default_factory=utcnow)


class InboxEntry(SQLModel, table=True):
    """An incoming event, click or activity, written (and claimed) before it is acknowledged.

    ``key`` is the platform's dedup key (a Slack ``event_id``, a Teams activity id ...),
    unique per channel, so a retry finds the row instead of running twice. ``state``
    is ``working`` until the channel has handled it (``done``) or given up (``failed``);
    ``claimed_by``/``claimed_at`` say which replica works on it, renewed while it does.
    """

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "key"), Index("ix_inbox_state_claimed", "state", "claimed_at"))

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = _json({})
    state: str = Field(default="working", max_length=16)
    claimed_by: str = Field(max_length=100)
    claimed_at: datetime = Field(default_factory=utcnow)
    attempts: int = 1
    received_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Approval(SQLModel, table=True):
    """A sensitive action waiting for (or decided by) a technician."""

    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    skill: str = Field(max_length=64)
    action: str = Field(max_length=64)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    details: list[list[str]] = _json([])
    data: dict[str, Any] = _json({})
    requester: str = Field(index=True, max_length=320)
    requester_channel: str = Field(max_length=20)
    requester_conversation: str = Field(max_length=200)
    target: str = Field(default="", max_length=320)
    approver_role: str = Field(default="technician", max_length=32)
    status: str = Field(default="pending", index=True, max_length=16)
    decided_by: str | None = Field(default=None, max_length=320)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class AuditEntry(SQLModel, table=True):
    """One append-only line of the audit log. It never holds a secret."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=320)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=320)
    outcome: str = Field(max_length=32)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class Ticket(SQLModel, table=True):
    """A ticket in the built-in queue (keys like HELP-12)."""

    __tablename__ = "ticket"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=32)
    reporter: str = Field(index=True, max_length=320)
    summary: str = Field(max_length=255)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    system: str = Field(default="", max_length=64)
    urgency: str = Field(default="normal", max_length=16)
    status: str = Field(default="open", index=True, max_length=32)
    assignee: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TicketComment(SQLModel, table=True):
    """A comment on a built-in ticket."""

    __tablename__ = "ticket_comment"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author: str = Field(max_length=320)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Notice(SQLModel, table=True):
    """An outage, maintenance, security or general notice."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="outage", max_length=32)
    title: str = Field(max_length=255)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    systems: list[str] = _json([])
    status: str = Field(default="active", index=True, max_length=16)
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class KbQuery(SQLModel, table=True):
    """A how-to question, the article given (if any), and whether it helped."""

    __tablename__ = "kb_query"

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(sa_column=Column(Text, nullable=False))
    article_id: str | None = Field(default=None, max_length=200)
    asked_by: str = Field(max_length=320, index=True)
    outcome: str = Field(default="answered", index=True, max_length=16)
    asked_at: datetime = Field(default_factory=utcnow)


class TeamsConversation(SQLModel, table=True):
    """A Teams conversation the bot may post to later: its conversation reference (proactive messages).

    ``kind`` is ``personal`` (a chat with one employee, who is ``user_id``/``email``), ``channel``
    or ``groupChat``. ``reference`` is the Bot Framework ConversationReference as JSON.
    """

    __tablename__ = "teams_conversation"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(index=True, unique=True, max_length=400)
    kind: str = Field(default="personal", max_length=20)
    user_id: str | None = Field(default=None, index=True, max_length=200)
    email: str | None = Field(default=None, index=True, max_length=320)
    team_id: str | None = Field(default=None, max_length=400)
    service_url: str = Field(max_length=500)
    tenant_id: str | None = Field(default=None, max_length=100)
    reference: dict[str, Any] = _json({})
    updated_at: datetime = Field(default_factory=utcnow)


class TeamsMessage(SQLModel, table=True):
    """A message the bot sent under a ``Reply.key``, so that a later reply can update it in place."""

    __tablename__ = "teams_message"
    __table_args__ = (Index("ix_teams_message_conversation_activity", "conversation_id", "activity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=200)
    conversation_id: str = Field(max_length=400)
    activity_id: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class TicketLink(SQLModel, table=True):
    """A ticket the bot opened, in any backend: who it is for, and what the employee was last told."""

    __tablename__ = "ticket_link"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=64)
    backend: str = Field(max_length=16)
    request_id: str | None = Field(default=None, index=True, unique=True, max_length=64)
    reporter: str = Field(index=True, max_length=320)
    system: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=64)
    last_comment_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class TicketOutboxEntry(SQLModel, table=True):
    """A ticket request written down before the backend is called, so an outage or a crash loses nothing."""

    __tablename__ = "ticket_outbox"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True, unique=True, max_length=64)
    reporter: str = Field(index=True, max_length=320)
    payload: dict[str, Any] = _json({})
    state: str = Field(default="pending", index=True, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    ticket_key: str | None = Field(default=None, max_length=64)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TicketSyncMark(SQLModel, table=True):
    """How far the polling job has read a backend's changes (JQL ``updated >= checked_at``)."""

    __tablename__ = "ticket_sync"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    checked_at: datetime


class AccountRequest(SQLModel, table=True):
    """One password reset or unlock: who asked, for whom, how it was verified, and how it ended.

    The one-time code is kept only as a salted scrypt hash. No password is ever stored.
    """

    __tablename__ = "account_request"

    id: int | None = Field(default=None, primary_key=True)
    requester: str = Field(index=True, max_length=320)
    target: str = Field(index=True, max_length=320)
    action: str = Field(max_length=32)
    method: str = Field(max_length=16)
    status: str = Field(default="new", index=True, max_length=16)
    approval_id: int | None = Field(default=None)
    approved_by: str = Field(default="", max_length=700)
    code_hash: str | None = Field(default=None, max_length=128)
    code_salt: str | None = Field(default=None, max_length=64)
    code_expires_at: datetime | None = None
    code_attempts: int = 0
    failure: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class SlackMessage(SQLModel, table=True):
    """A Slack message the bot posted under a ``Reply.key``, so a later ``Reply.replaces`` can update it.

    ``thread_ts`` is the thread it was posted in (None at the top level), so that a
    message in a thread someone else started still finds the bot's keyed answer there.
    """

    __tablename__ = "slack_message"
    __table_args__ = (Index("ix_slack_message_channel_ts", "channel_id", "ts"),
                      Index("ix_slack_message_channel_thread", "channel_id", "thread_ts"))

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=200)
    channel_id: str = Field(max_length=50)
    ts: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    posted_at: datetime = Field(default_factory=utcnow)
# Announcements, deliveries and the scheduler (issue 7) ---------------------------------

class Announcement(SQLModel, table=True):
    """A notice sent to an audience: now, at a time, or on a recurring schedule.

    A recurring announcement is a series; each time it fires, an occurrence row
    (``series_id``, ``occurrence_at``, unique together) is made and sent. A
    follow-up (an update or "resolved") has ``parent_id`` set to the original.
    """

    __tablename__ = "announcement"
    __table_args__ = (UniqueConstraint("series_id", "occurrence_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="general", max_length=32)
    title: str = Field(max_length=255)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    systems: list[str] = _json([])
    audience: dict[str, Any] = _json({})
    schedule: str = Field(default="now", max_length=200)
    cron: str | None = Field(default=None, max_length=200)
    send_at: datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    ack_required: bool = False
    allow_mentions: bool = False
    status: str = Field(default="draft", index=True, max_length=20)
    created_by: str = Field(max_length=320)
    approved_by: str | None = Field(default=None, max_length=320)
    approved_digest: str | None = Field(default=None, max_length=64)
    parent_id: int | None = Field(default=None, index=True)
    series_id: int | None = Field(default=None, index=True)
    occurrence_at: datetime | None = None
    notice_id: int | None = Field(default=None, index=True)
    total: int = 0
    sent: int = 0
    failed: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Delivery(SQLModel, table=True):
    """One announcement to one recipient (``user:EMAIL`` or ``room:CHANNEL:CONVERSATION``).

    The unique key makes a second replica, a retried job or a resumed fan-out
    unable to send the same announcement to the same recipient twice.
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("announcement_id", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(index=True)
    recipient: str = Field(max_length=400)
    status: str = Field(default="pending", index=True, max_length=16)
    claim: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    error: str = Field(default="", max_length=500)
    reminded_at: datetime | None = None


class Acknowledgement(SQLModel, table=True):
    """An employee clicked "I have read this" on an announcement."""

    __tablename__ = "acknowledgement"
    __table_args__ = (UniqueConstraint("announcement_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(index=True)
    email: str = Field(max_length=320)
    at: datetime = Field(default_factory=utcnow)


class OutageSubscription(SQLModel, table=True):
    """An employee who asked to be told when a system's outage is resolved."""

    __tablename__ = "outage_subscription"
    __table_args__ = (UniqueConstraint("system", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(max_length=64)
    email: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow)


class OutageReport(SQLModel, table=True):
    """An employee reported that a system seems down (no notice was known)."""

    __tablename__ = "outage_report"

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(index=True, max_length=64)
    reporter: str = Field(max_length=320)
    ticket_key: str = Field(default="", max_length=32)
    alerted: bool = False
    reported_at: datetime = Field(default_factory=utcnow, index=True)


class JobClaim(SQLModel, table=True):
    """One run of a scheduled job, claimed by the replica that fires it: (job, run time) is unique."""

    __tablename__ = "job_claim"
    __table_args__ = (UniqueConstraint("job_id", "run_time"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=191)
    run_time: datetime
    claimed_by: str = Field(max_length=100)
    outcome: str = Field(default="running", max_length=16)
    claimed_at: datetime = Field(default_factory=utcnow)


SCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
"""APScheduler's SQLAlchemyJobStore table, declared here so that our migration creates it."""
