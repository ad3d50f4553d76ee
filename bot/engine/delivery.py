"""The one delivery path: a ``Reply`` to its address, through the channel that reaches it."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.channels.base import Channel, DeliveryCheck
from bot.core.address import Person, Room, decode_address
from bot.core.messages import TECHNICIANS, Field, Reply, Turn
from bot.core.text import neutralise_bidi, neutralise_mentions
from bot.services.identity import IdentityService

__all__ = ["Delivery", "defused"]

log = logging.getLogger(__name__)


class Delivery:
    """Sends replies through the connected channels, resolving where each one goes."""

    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity
        self.channels: dict[str, Channel] = {}

    def connect(self, channel: Channel) -> None:
        """Connect a channel; the first one also carries the technicians' conversation."""
        self.channels[channel.name] = channel

    def is_connected(self, channel: str) -> bool:
        """True when the chat platform named ``channel`` (``slack``, ``teams``, ``console``) is connected."""
        return channel in self.channels

    @property
    def connected(self) -> bool:
        """True when any chat platform is connected."""
        return bool(self.channels)

    async def deliver(self, reply: Reply, origin: Turn | None = None) -> bool:
        """Send ``reply`` through the right channel, resolving where it goes; False when no connected channel
        reaches ``reply.to`` (it is logged, not raised).

        Its text and fields are defused first, so nothing a person typed can page
        a whole channel; only ``Reply.mention`` (the composer's explicit option) can.
        """
        reply = defused(reply)
        if reply.to is None:
            if origin is None:
                raise ValueError("a reply with no address needs the turn it answers")
            await self.channels[origin.channel].send(reply.addressed(origin.conversation_id), origin)
            return True
        if reply.to == TECHNICIANS:
            await self._technician_channel(origin).send(reply, origin)
            return True
        address = decode_address(reply.to)
        if isinstance(address, Person):
            account = await self.identity.account(address.email)
            channel = self.channels.get(account.channel) if account else None
            if channel is None:
                log.warning("cannot reach %s: they have not talked to the bot on a connected channel", reply.to)
                return False
            await channel.send(reply, origin)
            return True
        if isinstance(address, Room):
            if address.channel not in self.channels:
                log.warning("cannot post to %s: channel %r is not connected", reply.to, address.channel)
                return False
            await self.channels[address.channel].send(reply.addressed(address.conversation), origin)
            return True
        if origin is None:
            raise ValueError(f"cannot tell which channel holds conversation {reply.to!r}")
        await self.channels[origin.channel].send(reply, origin)
        return True

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the channel that reaches ``reply.to`` (a ``DeliveryCheck``) says ``reply.key`` is there."""
        channel: Channel | None = None
        address = decode_address(reply.to) if reply.to else None
        if isinstance(address, Person):
            account = await self.identity.account(address.email)
            channel = self.channels.get(account.channel) if account else None
        elif isinstance(address, Room):
            channel = self.channels.get(address.channel)
        return isinstance(channel, DeliveryCheck) and await channel.was_delivered(reply)

    def _technician_channel(self, origin: Turn | None) -> Channel:
        if origin is not None and origin.channel in self.channels:
            return self.channels[origin.channel]
        return next(iter(self.channels.values()))


def defused(reply: Reply) -> Reply:
    """``reply`` with @channel, @everyone, @here (and Slack's ``<!channel>``) defused and bidirectional controls
    neutralised in its text, fields and button labels."""
    def safe(text: str) -> str:
        return neutralise_bidi(neutralise_mentions(text))

    fields = tuple(Field(safe(f.label), safe(f.value)) for f in reply.fields)
    buttons = tuple(replace(b, label=safe(b.label)) for b in reply.buttons)
    return replace(reply, text=safe(reply.text), fields=fields, buttons=buttons)
