"""The Channel port: what the engine needs from a chat platform."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.core.messages import Reply, Turn

__all__ = ["Channel"]


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
