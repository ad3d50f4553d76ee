"""The ticket port and its adapters: the built-in queue, Jira, Jira Service Management, and the outbox before them."""

from __future__ import annotations

from bot.integrations.tickets.builtin import LocalTicketQueue
from bot.integrations.tickets.factory import build_ticket_backend
from bot.integrations.tickets.links import link_ticket, linked
from bot.integrations.tickets.outbox import BackendHealth, TicketOutbox, backoff
from bot.integrations.tickets.port import (
    CATEGORIES,
    OPEN_STATUSES,
    URGENCIES,
    TicketBackend,
    TicketView,
    category_for,
    valid_key,
)

__all__ = [
    "BackendHealth",
    "CATEGORIES",
    "LocalTicketQueue",
    "OPEN_STATUSES",
    "TicketBackend",
    "TicketOutbox",
    "TicketView",
    "URGENCIES",
    "backoff",
    "build_ticket_backend",
    "category_for",
    "link_ticket",
    "linked",
    "valid_key",
]
