"""The ticket port: the ``TicketBackend`` protocol every backend implements, and the values it speaks in.

The adapters are ``bot.integrations.tickets.builtin`` (our own tables),
``bot.integrations.tickets.jira`` and ``bot.integrations.tickets.jsm``;
``bot.integrations.tickets.factory`` picks one from the settings, and the
outbox in front of it (``bot.integrations.tickets.outbox``) keeps a request
safe while the backend is down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = [
    "CATEGORIES",
    "DONE_STATUSES",
    "OPEN_STATUSES",
    "TicketBackend",
    "TicketView",
    "URGENCIES",
    "category_for",
    "valid_key",
]

URGENCIES = ("low", "normal", "high", "urgent")
OPEN_STATUSES = ("open", "in progress", "waiting")
DONE_STATUSES = ("resolved", "closed")
CATEGORIES = ("hardware", "software", "network", "access", "security", "request")
_SYSTEM_CATEGORY = {
    "computer": "hardware", "printer": "hardware", "phone": "hardware", "mdt": "hardware", "badge": "access",
    "outlook": "software", "teams": "software", "erp": "software", "permitting": "software",
    "website": "software", "vpn": "network", "wifi": "network", "internet": "network",
    "shared drive": "access", "mfa": "access", "account": "access",
}
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}-\d{1,9}$")



def category_for(system: str, category: str = "") -> str:
    """The ticket category: the one given, else the one that the system belongs to, else ``request``."""
    if category:
        return category
    return _SYSTEM_CATEGORY.get(system.strip().lower(), "request")


def valid_key(key: str) -> str | None:
    """``key`` upper-cased when it looks like a ticket key (PROJ-123), else None."""
    key = key.strip().upper()
    return key if _KEY.match(key) else None


@dataclass(frozen=True)
class TicketView:
    """A ticket as skills see it, whatever the backend."""

    key: str
    summary: str
    status: str
    reporter: str
    description: str = ""
    system: str = ""
    urgency: str = "normal"
    assignee: str | None = None
    last_comment: str | None = None
    url: str | None = None
    updated_at: datetime | None = None
    category: str = ""
    last_comment_id: str | None = None
    last_comment_by: str | None = None
    done: bool | None = None

    @property
    def is_open(self) -> bool:
        """True while the ticket is not resolved or closed."""
        if self.done is not None:
            return not self.done
        return self.status in OPEN_STATUSES


@runtime_checkable
class TicketBackend(Protocol):
    """Where tickets live: the built-in queue, Jira, or Jira Service Management.

    Every backend passes the one contract suite in ``tests/integrations/tickets/test_ticket_contract.py``.
    """

    @property
    def name(self) -> str:
        """The backend's name, as employees read it (Jira, built-in queue ...)."""
        ...

    @property
    def kind(self) -> str:
        """``builtin``, ``jira`` or ``jsm``."""
        ...

    def check(self) -> None:
        """At start-up: fail with a ConfigError of one line when the backend is not usable (bad URL, token, project),
        or raise ``TicketBackendUnavailable`` when it does not answer (the bot then starts without it)."""
        ...

    async def create(
        self,
        *,
        reporter: str,
        summary: str,
        description: str = "",
        system: str = "",
        urgency: str = "normal",
        category: str = "",
        request_id: str | None = None,
    ) -> TicketView:
        """File a ticket and return it with its key. ``request_id`` marks it, so a retry can find it."""
        ...

    async def find_by_request(self, request_id: str) -> TicketView | None:
        """The ticket filed for ``request_id``, if one was (even when we never heard back)."""
        ...

    async def get(self, key: str) -> TicketView | None:
        """One ticket by key, or None."""
        ...

    async def list_for(self, reporter: str, *, open_only: bool = True) -> list[TicketView]:
        """The reporter's tickets, newest first."""
        ...

    async def list_open(self) -> list[TicketView]:
        """Every open ticket, oldest first (the technicians' queue)."""
        ...

    async def find_open(self, reporter: str, system: str) -> TicketView | None:
        """An open ticket by ``reporter`` about ``system``, to offer instead of a duplicate."""
        ...

    async def comment(self, key: str, author: str, body: str) -> TicketView:
        """Add a comment."""
        ...

    async def update(self, key: str, *, status: str | None = None, assignee: str | None = None) -> TicketView:
        """Change the status or the assignee."""
        ...

    async def updated_since(self, since: datetime, limit: int = 100) -> list[TicketView]:
        """At most ``limit`` of the bot's tickets changed at or after ``since``, oldest change first."""
        ...
