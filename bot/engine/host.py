"""What a chat channel may use of the running helpdesk, as a protocol.

The platform packages (``bot.channels.slack``, ``teams``, ``console``) take a
``ChannelHost`` instead of ``bot.app.Bot``, so they import nothing above them;
the ``Bot`` fits it as it is.
"""

from __future__ import annotations

from typing import Protocol

from bot.channels.base import Channel
from bot.core.messages import Reply, Turn
from bot.core.parse import Parser
from bot.core.settings import Settings
from bot.engine.home import HomeSources
from bot.integrations.directory import Directory
from bot.services.audit import AuditLog
from bot.services.identity import IdentityService
from bot.services.inbox import Inbox
from bot.store import Database

__all__ = ["ChannelHost"]


class ChannelHost(HomeSources, Protocol):
    """The parts of the running helpdesk a channel hands its turns to and reads from."""

    @property
    def settings(self) -> Settings:
        """The settings the helpdesk runs with."""
        ...

    @property
    def db(self) -> Database:
        """The database (a channel keeps its own rows: posted messages, conversation references)."""
        ...

    @property
    def identity(self) -> IdentityService:
        """Who is behind a chat user: the only way a channel resolves people."""
        ...

    @property
    def inbox(self) -> Inbox:
        """Where a channel writes what came in before it is handled."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The audit log (refused clicks are recorded there)."""
        ...

    @property
    def nlu(self) -> Parser:
        """The NLU parser in use."""
        ...

    @property
    def directory(self) -> Directory:
        """The directory in use."""
        ...

    async def handle(self, turn: Turn, *, deduplicated: bool = False) -> None:
        """Handle one turn from a channel."""
        ...

    async def deliver(self, reply: Reply, origin: Turn | None = None) -> bool:
        """Send ``reply`` to its address; False when no connected channel reaches it."""
        ...

    def add_channel(self, channel: Channel) -> None:
        """Connect a channel."""
        ...
