"""How a reply leaves the engine: the ``Deliverer`` every sender is given instead of the whole bot."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import Reply, Turn

__all__ = ["Deliverer"]


class Deliverer(Protocol):
    """Sends a ``Reply`` to its address through the right channel (``bot.engine.delivery.Delivery``)."""

    async def deliver(self, reply: Reply, origin: Turn | None = None) -> bool:
        """Send ``reply``; ``origin`` is the turn it answers, if any. False when nothing reaches its address."""
        ...

    def is_connected(self, channel: str) -> bool:
        """True when the chat platform named ``channel`` is connected."""
        ...

    @property
    def connected(self) -> bool:
        """True when any chat platform is connected (the technicians' conversation can be reached)."""
        ...
