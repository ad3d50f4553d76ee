"""Persistence: SQLModel tables, the database, and Alembic migrations."""

from bot.store.database import Database, make_engine, upgrade
from bot.store.models import (
    AccountRequest,
    Approval,
    AuditEntry,
    ChatAccount,
    ConversationState,
    EmployeeRecord,
    KbQuery,
    Notice,
    ProcessedEvent,
    SlackMessage,
    Ticket,
    TicketComment,
    TicketLink,
    TicketOutboxEntry,
    TicketSyncMark,
    utcnow,
)

__all__ = [
    "AccountRequest",
    "Approval",
    "AuditEntry",
    "ChatAccount",
    "ConversationState",
    "Database",
    "EmployeeRecord",
    "KbQuery",
    "Notice",
    "ProcessedEvent",
    "SlackMessage",
    "Ticket",
    "TicketComment",
    "TicketLink",
    "TicketOutboxEntry",
    "TicketSyncMark",
    "make_engine",
    "upgrade",
    "utcnow",
]
