"""Persistence: SQLModel tables, the database, and Alembic migrations."""

from bot.store.database import Database, make_engine, upgrade
from bot.store.models import (
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
    utcnow,
)

__all__ = [
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
    "make_engine",
    "upgrade",
    "utcnow",
]
