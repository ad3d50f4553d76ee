"""Who is who on Teams: a sender's email (recorded, else the members API) and the technicians' channel roster."""

from __future__ import annotations

import logging
import time

import aiohttp
from microsoft_agents.hosting.core import TurnContext

from bot.channels.teams.connector import connector_of, retrying
from bot.channels.teams.references import base_conversation
from bot.core.settings import Settings
from bot.services.identity import IdentityService

__all__ = ["TECHNICIAN_CACHE_SECONDS", "TeamsPeople"]

log = logging.getLogger(__name__)

TECHNICIAN_CACHE_SECONDS = 300


class TeamsPeople:
    """Teams users' emails and technician role; people are recorded only through ``IdentityService``."""

    name = "teams"

    def __init__(self, identity: IdentityService, settings: Settings) -> None:
        self.identity = identity
        self.settings = settings
        self._technicians: tuple[float, frozenset[str]] = (0.0, frozenset())

    async def known_email(self, aad: str) -> str | None:
        """The email the bot already has for this Teams user (from an earlier members-API lookup)."""
        return await self.identity.email_of(self.name, aad)

    async def member_email(self, context: TurnContext) -> str | None:
        """The sender's email from the conversation-members API."""
        activity = context.activity
        connector = connector_of(context)
        sender = activity.from_property
        if connector is None or sender is None:
            return None
        try:
            member = await retrying(
                lambda: connector.conversations.get_conversation_member(
                    base_conversation(activity.conversation.id), sender.id),
                self.settings,
            )
        except aiohttp.ClientError as exc:
            log.warning("Teams: members API failed: %s", type(exc).__name__)
            return None
        extra = member.model_extra or {}
        email = extra.get("email") or extra.get("userPrincipalName") or ""
        return str(email).strip().lower() or None

    async def is_technician(self, context: TurnContext, aad: str) -> bool:
        """True when ``aad`` is a member of the technicians' channel (cached for a few minutes)."""
        channel = self.settings.teams_technician_channel
        connector = connector_of(context)
        if not channel or connector is None:
            return False
        fetched_at, members = self._technicians
        if time.monotonic() - fetched_at > TECHNICIAN_CACHE_SECONDS:
            try:
                roster = await retrying(
                    lambda: connector.conversations.get_conversation_members(base_conversation(channel)),
                    self.settings,
                )
            except aiohttp.ClientError as exc:
                log.warning("Teams: cannot read the technicians' channel roster: %s", type(exc).__name__)
                return aad in members
            members = frozenset(m.aad_object_id for m in roster if m.aad_object_id)
            self._technicians = (time.monotonic(), members)
        return aad in members
