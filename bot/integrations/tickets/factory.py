"""The ticket backend that the settings choose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.settings import Settings
from bot.integrations.tickets.builtin import LocalTicketQueue
from bot.integrations.tickets.port import TicketBackend
from bot.store import Database

__all__ = ["build_ticket_backend"]


def build_ticket_backend(settings: Settings, db: Database, clock: Callable[[], datetime]) -> TicketBackend:
    """The backend that the settings choose: the built-in queue, Jira, or Jira Service Management."""
    kind = settings.ticket_backend_kind
    if kind == "builtin":
        return LocalTicketQueue(db, settings.ticket_prefix, clock)
    from bot.integrations.tickets.jira import JiraBackend  # the jira library loads only when used
    from bot.integrations.tickets.jsm import ServiceDeskBackend

    return ServiceDeskBackend(settings, db, clock) if kind == "jsm" else JiraBackend(settings, db, clock)
