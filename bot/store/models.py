"""The tables. Every piece of state the bot keeps is a row here, never only in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AccountRequest",
    "Approval",
    "KbQuery",
    "AuditEntry",
    "ChatAccount",
    "ConversationState",
    "EmployeeRecord",
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
    misses: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedEvent(SQLModel, table=True):
    """An incoming event id already handled; the unique key makes retries no-ops."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    received_at: datetime = Field(default_factory=utcnow)


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
    asked_by: str = Field(max_length=320)
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
    created_at: datetime = Field(default_factory=utcnow)
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
    """A Slack message the bot posted under a ``Reply.key``, so a later ``Reply.replaces`` can update it."""

    __tablename__ = "slack_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=200)
    channel_id: str = Field(max_length=50)
    ts: str = Field(max_length=32)
    posted_at: datetime = Field(default_factory=utcnow)
