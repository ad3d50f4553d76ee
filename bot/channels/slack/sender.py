"""Posting replies on Slack: Block Kit messages, updates, threads, modals, ephemeral messages, delivery checks."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import fallback_text, message_blocks, modal_view
from bot.channels.slack.people import SlackPeople
from bot.channels.slack.posted import PostedMessages
from bot.core.address import Person, Room, decode_address
from bot.core.errors import IntegrationError
from bot.core.messages import TECHNICIANS, Reply, Turn
from bot.core.settings import Settings

__all__ = ["HISTORY_LOOKBACK", "METADATA_EVENT", "SlackSender"]

log = logging.getLogger(__name__)

METADATA_EVENT = "helpdesk_notice"
"""The ``event_type`` of the metadata on the bot's keyed messages (``event_payload`` is ``{"key": ...}``)."""
HISTORY_LOOKBACK = 50  # newest messages of a conversation searched for a keyed message that was not recorded


class SlackSender:
    """Renders replies as Block Kit and posts them where they are addressed."""

    name = "slack"

    def __init__(self, client: AsyncWebClient, people: SlackPeople, posted: PostedMessages,
                 settings: Settings) -> None:
        self.client = client
        self.people = people
        self.posted = posted
        self.settings = settings

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Render ``reply`` as Block Kit and post it (or update, or open a modal, or post ephemerally).

        A Web API refusal (after the client's retries) becomes an ``IntegrationError``, which the
        router turns into a message that Slack is not answering.
        """
        try:
            await self._send(reply, origin)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            hint = " (invite the bot to that channel)" if error in ("not_in_channel", "channel_not_found") else ""
            log.error("Slack refused a message for %s: %s%s", reply.to or "the conversation", error, hint)
            raise IntegrationError("Slack", error) from None

    async def _send(self, reply: Reply, origin: Turn | None) -> None:
        channel_id = await self._target(reply)
        if channel_id is None:
            return
        from_here = origin is not None and origin.channel == self.name
        thread = origin.thread_id if from_here and origin and origin.conversation_id == channel_id else None
        if reply.thread:
            parent = await self.posted.find(reply.thread)
            if parent is not None and parent.channel_id == channel_id:
                thread = parent.ts
        if reply.form is not None and from_here and origin and origin.raw.get("trigger_id"):
            if await self._modal(reply, origin, channel_id):
                if not reply.buttons and not reply.fields:
                    return
                reply = replace(reply, form=None)
        page = reply.mention if reply.mention and not channel_id.startswith("D") else None
        text, blocks = fallback_text(reply, page=page), message_blocks(reply, page=page)
        if reply.replaces:
            posted = await self.posted.find(reply.replaces)
            if posted is not None:
                await self.client.chat_update(channel=posted.channel_id, ts=posted.ts, text=text, blocks=blocks)
                return
        if reply.private and (reply.secret or not channel_id.startswith("D")):
            # Ephemeral: shown to that one person and never kept in the conversation's history or exports.
            reader = origin.user_id if from_here and origin and origin.conversation_id == channel_id else None
            person = decode_address(reply.to) if reply.to else None
            if reader is None and reply.secret and isinstance(person, Person):
                account = await self.people.identity.account(person.email)
                reader = account.user_id if account is not None and account.channel == self.name else None
            if reader is not None:
                await self.client.chat_postEphemeral(channel=channel_id, user=reader, text=text,
                                                     blocks=blocks, thread_ts=thread)
                return
            log.warning("private reply to %s with nobody to show it to: not sent", channel_id)
            return
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": reply.key}} if reply.key else None
        response = await self.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks,
                                                      thread_ts=thread, unfurl_links=False, unfurl_media=False,
                                                      metadata=metadata)
        if reply.key:
            await self.posted.remember(reply.key, str(response["channel"]), str(response["ts"]), thread)

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is already in ``reply.to`` (``DeliveryCheck``).

        The ``slack_message`` row says so when the sender lived to record it; otherwise
        (it died between posting and recording) the conversation's newest messages are
        searched for the key in their metadata, and the row is written from what is found.
        """
        key = reply.key
        if not key:
            return False
        posted = await self.posted.find(key)
        if posted is not None:
            return True
        room = decode_address(reply.to or "")
        if isinstance(room, Room):
            reply = reply.addressed(room.conversation)
        channel_id = await self._target(reply)
        if channel_id is None:
            return False
        history = await self.client.conversations_history(channel=channel_id, limit=HISTORY_LOOKBACK,
                                                          include_all_metadata=True)
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and \
                    (metadata.get("event_payload") or {}).get("key") == key:
                await self.posted.remember(key, channel_id, str(message["ts"]), message.get("thread_ts"))
                return True
        return False

    async def _target(self, reply: Reply) -> str | None:
        to = reply.to or ""
        if to == TECHNICIANS:
            if not self.settings.slack_technician_channel:
                log.error("a message for the technicians was dropped: HELPDESK_SLACK_TECHNICIAN_CHANNEL is not set")
                return None
            return self.settings.slack_technician_channel
        address = decode_address(to)
        if isinstance(address, Person):
            email = address.email
            account = await self.people.identity.account(email)
            if account is None or account.channel != self.name:
                log.warning("cannot reach %s on Slack: they have not talked to the bot here", email)
                return None
            if account.private_conversation:
                return account.private_conversation
            return await self.people.dm(account.user_id, email)
        return to or None

    async def _modal(self, reply: Reply, origin: Turn, channel_id: str) -> bool:
        """Open ``reply.form`` as a modal with the turn's trigger (usable once, for 3 s); False if that failed."""
        assert reply.form is not None
        trigger = str(origin.raw.pop("trigger_id"))
        try:
            await self.client.views_open(trigger_id=trigger, view=modal_view(reply.form, channel_id))
        except SlackApiError as exc:
            log.info("could not open the form as a modal (%s): posting a button instead", exc.response.get("error"))
            return False
        return True
