"""Posting replies on Teams: every reply an Adaptive Card through a stored conversation reference, updates of
an earlier message, the invoke's refreshed card, and delivery checks."""

from __future__ import annotations

import contextvars
import logging
from dataclasses import replace
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, ConversationReference
from microsoft_agents.hosting.core import ConnectorClientBase

from bot.channels.teams.cards import card_attachment, render_card
from bot.channels.teams.connector import Connector
from bot.channels.teams.destinations import Destinations
from bot.channels.teams.references import ReferenceStore, base_conversation
from bot.core.address import Person, Room, Technicians, decode_address
from bot.core.messages import Button, Reply, Turn
from bot.core.settings import Settings

__all__ = ["FORGET", "INVOKED", "TeamsSender", "card_activity"]

log = logging.getLogger(__name__)

FORGET = "teams:forget-secret"
"""The verb of the button under a secret (a temporary password): the card is replaced by one without it."""

INVOKED: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("teams_invoked", default=None)
"""The card clicked in the invoke being handled (``activity_id``), and the card that replaced it (``card``)."""


def card_activity(reply: Reply, mention: dict[str, Any] | None = None, *, summary: bool = False) -> Activity:
    """A message activity carrying ``reply`` as an Adaptive Card (with a notification summary if asked)."""
    fields: dict[str, Any] = {"type": ActivityTypes.message, "attachments": [card_attachment(reply, mention)]}
    if summary:
        fields["summary"] = reply.text[:200] or None
    return Activity.model_validate(fields)


class TeamsSender:
    """Renders replies as cards and posts (or updates) them through the Bot Connector."""

    def __init__(self, references: ReferenceStore, destinations: Destinations, connector: Connector,
                 settings: Settings) -> None:
        self.references = references
        self.destinations = destinations
        self.connector = connector
        self.settings = settings

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Render ``reply`` as a card and post it where it belongs (or update the message it replaces).

        A ``reply.thread`` in a team channel goes into the reply chain of that message; a
        ``reply.mention`` pages a team channel. A keyed message is recorded as soon as the
        connector has answered (see ``was_delivered``).
        """
        if reply.replaces:
            kept = await self.references.message(reply.replaces)
            if kept is not None:
                await self._update(reply, kept.conversation_id, kept.activity_id, origin)
                return
        reference = await self.destinations.where(reply, origin)
        if reference is None:
            log.warning("Teams: nowhere to send a reply addressed to %r", reply.to)
            return
        if reply.secret:  # Teams has no ephemeral messages: the card is emptied once the person has noted it
            reply = replace(reply, buttons=(*reply.buttons, Button(FORGET, "I have noted it: remove it")))
        mention = None
        if reply.thread or reply.mention:
            reference, mention = await self.destinations.thread_and_mention(reply, reference)
        activity = self._activity(reply, reference, mention)
        conversation_id = reference["conversation"]["id"]

        async def post(connector: ConnectorClientBase) -> str:
            thread = reference.get("activityId")
            if thread:
                activity.reply_to_id = thread
                response = await connector.conversations.reply_to_activity(conversation_id, thread, activity)
            else:
                response = await connector.conversations.send_to_conversation(conversation_id, activity)
            return response.id or ""

        activity_id = await self.connector.run(reference, post)
        if reply.key and activity_id:
            await self.references.keep_message(reply.key, conversation_id, activity_id)

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is recorded as posted to ``reply.to`` (``DeliveryCheck``).

        The record is written right after the connector answers, so one window remains: a process
        that dies after Teams took the message and before the row is committed (one database write)
        leaves a message that is not recorded, and the resumed fan-out sends it again. So does a
        connector answer lost on the way back (a timeout after Teams posted). The Bot Connector has
        no idempotency key and cannot list a conversation's messages, so nothing on Teams' side
        closes that window.
        """
        if not reply.key:
            return False
        kept = await self.references.message(reply.key)
        if kept is None:
            return False
        to = reply.to or ""
        address = decode_address(to)
        if isinstance(address, Person):
            row = await self.references.get(kept.conversation_id)
            return row is not None and row.kind == "personal" and row.email == address.email.lower()
        if isinstance(address, Technicians):
            to = self.settings.teams_technician_channel or ""
        elif isinstance(address, Room):
            to = address.conversation
        return bool(to) and base_conversation(kept.conversation_id) == base_conversation(to)

    async def _update(self, reply: Reply, conversation_id: str, activity_id: str, origin: Turn | None) -> None:
        stored = await self.references.get(conversation_id)
        reference = stored.reference if stored else await self.destinations.fallback(conversation_id, origin)
        if reference is None:
            log.warning("Teams: cannot update message %s: its conversation is unknown", reply.replaces)
            return
        activity = self._activity(reply, reference)
        activity.id = activity_id

        async def put(connector: ConnectorClientBase) -> str:
            await connector.conversations.update_activity(conversation_id, activity_id, activity)
            return activity_id

        await self.connector.run(reference, put)
        invoked = INVOKED.get()
        if invoked is not None and invoked["activity_id"] == activity_id:
            invoked["card"] = render_card(reply)

    def _activity(self, reply: Reply, reference: dict[str, Any], mention: dict[str, Any] | None = None) -> Activity:
        activity = card_activity(reply, mention, summary=True)
        ref = ConversationReference.model_validate({k: v for k, v in reference.items() if k != "activityId"})
        return activity.apply_conversation_reference(ref)
