"""The first steps of every turn, a click or a message: refuse what cannot be cleaned, drop duplicates, count."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.core import metrics
from bot.core.inbound import BadInput, clean_turn
from bot.core.messages import Reply, Turn
from bot.engine.chain import Next, Step
from bot.engine.context import Services
from bot.engine.message_steps import Routed

__all__ = ["Arrival", "Intake"]

log = logging.getLogger(__name__)


@dataclass
class Arrival:
    """A turn as it arrives from a channel; ``deduplicated`` when the channel's inbox has seen to duplicates."""

    turn: Turn
    deduplicated: bool = False


class Intake:
    """The steps of a turn before it is routed as a click or a message (``chain()``, in order)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def chain(self) -> tuple[Step[Arrival, Routed], ...]:
        """The steps, in the order a turn meets them."""
        return self.refuse_unclean, self.drop_duplicate, self.count

    async def refuse_unclean(self, arrival: Arrival, call_next: Next[Routed]) -> Routed:
        """Clean the turn's text and ids; a turn that cannot be cleaned is refused."""
        turn = arrival.turn
        try:
            clean_turn(turn)
        except BadInput as exc:
            log.info("refused a turn from %s: %s", turn.channel, exc)
            text = "I did not recognise that button. It may be from an old message."
            await self.services.delivery.deliver(Reply(text), origin=turn)
            return "refused", "router"
        return await call_next()

    async def drop_duplicate(self, arrival: Arrival, call_next: Next[Routed]) -> Routed:
        """A turn with an ``event_id`` runs once (a ``processed_event`` row)."""
        turn = arrival.turn
        if turn.event_id and not arrival.deduplicated \
                and not await self.services.conversations.first_time(turn.channel, turn.event_id):
            metrics.DUPLICATES.labels(turn.channel).inc()
            return "duplicate", "router"
        return await call_next()

    async def count(self, arrival: Arrival, call_next: Next[Routed]) -> Routed:
        """Count the turn by how it was routed, and time it."""
        started = time.perf_counter()
        routed: Routed = ("click" if arrival.turn.is_click else "none", "router")
        try:
            routed = await call_next()
            return routed
        finally:
            metrics.TURNS.labels(*routed).inc()
            metrics.LATENCY.observe(time.perf_counter() - started)
