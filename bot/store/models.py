"""The tables. Every piece of state the bot keeps is a row here, never only in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
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


class SlackMessage(SQLModel, table=True):
    """A Slack message the bot posted under a ``Reply.key``, so a later ``Reply.replaces`` can update it."""

    __tablename__ = "slack_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=200)
    channel_id: str = Field(max_length=50)
    ts: str = Field(max_length=32)
    posted_at: datetime = Field(default_factory=utcnow)
