"""Where a Teams reply goes: the stored conversation reference for its address, a personal chat created on
demand, a reference built for a conversation never stored, and a team channel's reply chain."""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import ConversationParameters
from microsoft_agents.hosting.core import ConnectorClientBase

from bot.channels.teams.cards import mention_entity
from bot.channels.teams.connector import Connector
from bot.channels.teams.references import ReferenceStore, base_conversation
from bot.core.address import Person, decode_address
from bot.core.messages import TECHNICIANS, Reply, Turn
from bot.core.settings import Settings
from bot.services.identity import IdentityService
from bot.store.models import TeamsConversation

__all__ = ["Destinations"]

log = logging.getLogger(__name__)

Reference = dict[str, Any]


def _origin_reference(origin: Turn) -> Reference:
    """A copy of the conversation reference a Teams turn carries (``"reference" in origin.raw``)."""
    reference: Reference = dict(origin.raw["reference"])  # type: ignore[call-overload]
    return reference


class Destinations:
    """Finds (or makes) the conversation reference a reply is posted through."""

    name = "teams"

    def __init__(self, references: ReferenceStore, identity: IdentityService, connector: Connector,
                 settings: Settings) -> None:
        self.references = references
        self.identity = identity
        self.connector = connector
        self.settings = settings

    async def where(self, reply: Reply, origin: Turn | None) -> Reference | None:
        """The reference of the conversation ``reply`` goes to (a thread reply carries ``activityId``)."""
        to = reply.to
        if to == TECHNICIANS:
            channel = self.settings.teams_technician_channel
            if not channel:
                log.warning("Teams: HELPDESK_TEAMS_TECHNICIAN_CHANNEL is not set; the technicians miss a message")
                return None
            stored = await self.references.get(channel)
            return stored.reference if stored else await self.fallback(channel, origin)
        address = decode_address(to) if to is not None else None
        if isinstance(address, Person):
            return await self._personal(address.email, origin)
        conversation = to or (origin.conversation_id if origin else None)
        if conversation is None:
            return None
        from_origin = origin is not None and origin.channel == self.name and conversation == origin.conversation_id
        if from_origin and origin is not None and "reference" in origin.raw:
            kind = origin.raw.get("kind")
            if reply.private and kind != "personal":
                return await self._personal(origin.email, origin)
            reference = _origin_reference(origin)
            if kind != "channel":
                reference.pop("activityId", None)
            return reference
        if from_origin and origin is not None and reply.private:  # a turn the engine made (an approval's requester)
            account = await self.identity.account(origin.email) if origin.employee else None
            if account is not None and account.private_conversation:
                conversation = account.private_conversation
        stored = await self.references.get(conversation)
        return stored.reference if stored else await self.fallback(conversation, origin)

    async def _personal(self, email: str, origin: Turn | None) -> Reference | None:
        """The employee's personal chat; created (``POST /v3/conversations``) when the bot knows them but has none."""
        stored = await self.references.personal(email=email)
        if stored is not None:
            return stored.reference
        account = await self.identity.account(email)
        if account is None or account.channel != self.name:
            return None
        base = await self._template(origin)
        if base is None:
            return None
        from_id = origin.raw.get("from_id") if origin is not None and origin.user_id == account.user_id else None
        member_id = str(from_id) if from_id else f"8:orgid:{account.user_id}"
        tenant = base.get("conversation", {}).get("tenantId") or self.settings.teams_tenant_id
        params = ConversationParameters.model_validate({
            "is_group": False, "agent": base["bot"] if base.get("bot") else None,
            "members": [{"id": member_id, "aad_object_id": account.user_id}],
            "tenant_id": tenant, "channel_data": {"tenant": {"id": tenant}} if tenant else None,
        })

        async def create(connector: ConnectorClientBase) -> str:
            created = await connector.conversations.create_conversation(params)
            return created.id

        conversation_id = await self.connector.run(base, create)
        if not conversation_id:
            return None
        reference = {k: v for k, v in base.items() if k not in ("activityId", "user")}
        reference["conversation"] = {"id": conversation_id, "conversationType": "personal", "tenantId": tenant}
        reference["user"] = {"id": member_id, "aadObjectId": account.user_id}
        await self.references.remember(reference, kind="personal", user_id=account.user_id, email=email,
                                       tenant_id=tenant)
        return reference

    async def _template(self, origin: Turn | None) -> Reference | None:
        """A stored reference to copy the service URL, the bot and the tenant from (the turn's, or the newest)."""
        if origin is not None and origin.channel == self.name and "reference" in origin.raw:
            return _origin_reference(origin)
        known: TeamsConversation | None = await self.references.any()
        return dict(known.reference) if known else None

    async def fallback(self, conversation_id: str, origin: Turn | None) -> Reference | None:
        """A reference for a conversation the bot has not stored (say, the technicians' channel), built from
        one it has: a conversation id is all Teams needs besides the service URL and the bot."""
        template = await self._template(origin) if conversation_id else None
        if template is None:
            return None
        reference = {k: v for k, v in template.items() if k not in ("activityId", "user")}
        tenant = template.get("conversation", {}).get("tenantId") or self.settings.teams_tenant_id
        reference["conversation"] = {"id": conversation_id, "tenantId": tenant}
        return reference

    async def thread_and_mention(self, reply: Reply, reference: Reference) -> tuple[Reference, Reference | None]:
        """In a team channel: the reference moved into ``reply.thread``'s reply chain, and the mention
        entity for ``reply.mention``. Elsewhere (personal and group chats) both are ignored."""
        channel = base_conversation(reference["conversation"]["id"])
        kind = reference["conversation"].get("conversationType")
        stored = await self.references.get(channel) if kind in (None, "channel") else None
        if (kind or (stored.kind if stored else None)) != "channel":
            return reference, None
        mention = mention_entity(reply.mention, channel, stored.team_id if stored else None) if reply.mention else None
        if reply.thread:
            reference = await self._in_thread(reference, reply.thread)
        return reference, mention

    async def _in_thread(self, reference: Reference, key: str) -> Reference:
        """``reference`` moved into the reply chain of the message kept under ``key``, when that message
        is in the same channel (Teams threads a reply by the conversation id ``<channel>;messageid=<root>``,
        as the Teams SDK's ``Reply`` builds it, and ``replyToId``)."""
        kept = await self.references.message(key)
        channel = base_conversation(reference["conversation"]["id"])
        if kept is None or base_conversation(kept.conversation_id) != channel:
            return reference
        _, _, root = kept.conversation_id.partition(";messageid=")  # the kept message may itself be a reply
        root = root or kept.activity_id
        threaded = dict(reference)
        threaded["conversation"] = {**reference["conversation"], "id": f"{channel};messageid={root}"}
        threaded["activityId"] = root
        return threaded
