"""The Channel port: what the engine needs from a chat platform, and the capabilities some platforms add."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.core.messages import Reply, Turn

__all__ = ["Channel", "DeliveryCheck", "GroupDirectory"]


@runtime_checkable
class Channel(Protocol):
    """A chat platform. ``send`` renders one reply and posts it.

    ``reply.to`` is always resolved before ``send``: a conversation id of this
    channel, ``TECHNICIANS``, or ``user_address(email)`` for a private chat.
    ``origin`` is the turn being answered, when there is one (for threads and
    ephemeral messages).
    """

    name: str

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Render and post ``reply``."""
        ...


@runtime_checkable
class GroupDirectory(Protocol):
    """A channel that knows user groups (Slack user groups): who is in ``handle``, as emails."""

    async def group_members(self, handle: str) -> list[str]:
        """The emails of the members of user group ``handle`` (empty when there is no such group)."""
        ...


@runtime_checkable
class DeliveryCheck(Protocol):
    """A channel that can tell whether a message with ``reply.key`` already reached ``reply.to``."""

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is already in the conversation ``reply.to``."""
        ...
