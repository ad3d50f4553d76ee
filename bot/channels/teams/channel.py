"""The Microsoft Teams channel, on the Microsoft 365 Agents SDK (``microsoft-agents-*``).

``POST /api/messages`` takes the Bot Connector's activities: personal chats,
@mentions in team channels (answered in the thread) and group chats. Tokens are
validated by the SDK's JWT check; ``HELPDESK_TEAMS_ALLOW_ANONYMOUS`` switches
that off for local testing only, and only on a loopback address.

- A message becomes a Turn, written to the inbox (``bot.services.inbox``) under
  its activity id before it is acknowledged, so a retried activity is handled
  once and one acknowledged before a crash is handled after it. It is
  acknowledged at once and handled in the background.
- A card button (invoke ``adaptiveCard/action``) becomes a Turn with ``action``
  set, written to the inbox too, and handled before the invoke is answered; a
  card that the turn updated comes back as the invoke's refreshed card.
- Every reply is an Adaptive Card, posted through the stored conversation
  reference (``continue_conversation``), so replies, updates and proactive
  notices all take one path. A 429 or 5xx from the connector is retried with
  backoff (``Retry-After`` is honoured).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import html
import ipaddress
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    AuthTypes,
    ClaimsIdentity,
    ConnectorClientBase,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.msteams import TeamsAgentExtension
from pydantic import ValidationError
from sqlmodel import select

from bot.core import metrics
from bot.app import Bot
from bot.channels.teams.cards import CARD_CONTENT_TYPE, action_of, card_attachment, mention_entity, render_card
from bot.channels.teams.references import ReferenceStore, base_conversation
from bot.core.errors import ConfigError, IntegrationError
from bot.core.inbound import BadInput, clean_id, loads
from bot.core.messages import TECHNICIANS, Button, Employee, Reply, Turn
from bot.core.settings import Settings
from bot.store import ChatAccount, InboxEntry
from bot.store.models import TeamsConversation

__all__ = ["ROUTE", "TeamsChannel", "check_teams_settings"]

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
TECHNICIAN_CACHE_SECONDS = 300
CONVERSATION_ID_CHARS = 400  # the length of the stored conversation id columns
FORGET = "teams:forget-secret"
"""The verb of the button under a secret (a temporary password): the card is replaced by one without it."""
_ANY_VERB = re.compile(r".+")
_RETRIED = {429, 500, 502, 503, 504}
T = TypeVar("T")

# The card clicked in the invoke being handled, and the card that replaced it (the invoke's answer).
_invoked: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("teams_invoked", default=None)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_teams_settings(settings: Settings) -> None:
    """Refuse settings that would run Teams unsafely or not at all (one-line ConfigError)."""
    if settings.teams_allow_anonymous and not _is_loopback(settings.host):
        raise ConfigError(
            f"HELPDESK_TEAMS_ALLOW_ANONYMOUS=true is for local testing only, but HELPDESK_HOST is "
            f"{settings.host!r}; listen on 127.0.0.1 or turn anonymous access off"
        )
    if settings.teams_allow_anonymous:
        return
    if not settings.teams_app_id:
        raise ConfigError("HELPDESK_TEAMS_APP_ID is not set (the bot's Microsoft App ID)")
    if not settings.teams_tenant_id:
        raise ConfigError("HELPDESK_TEAMS_TENANT_ID is not set (your Microsoft Entra tenant id)")
    if settings.teams_app_password is None and settings.teams_certificate_path is None:
        raise ConfigError("set HELPDESK_TEAMS_APP_PASSWORD or HELPDESK_TEAMS_CERTIFICATE_PATH for the Teams bot")
    if settings.teams_certificate_path is not None and not settings.teams_certificate_path.is_file():
        raise ConfigError(f"HELPDESK_TEAMS_CERTIFICATE_PATH: no file at {settings.teams_certificate_path}")


def _auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    if settings.teams_allow_anonymous and not settings.teams_app_id:
        return AgentAuthConfiguration(anonymous_allowed=True)
    password = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    certificate = str(settings.teams_certificate_path) if settings.teams_certificate_path else None
    return AgentAuthConfiguration(
        auth_type=AuthTypes.certificate if certificate and not password else AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=password,
        cert_pfx_file=certificate,
        anonymous_allowed=settings.teams_allow_anonymous,
    )


@dataclass
class _Box:
    """What a proactive callback produced (the SDK swallows callback errors otherwise)."""

    result: Any = None
    error: BaseException | None = None


class TeamsChannel:
    """The Teams channel: the ``/api/messages`` route and ``send`` for the engine."""

    name = "teams"

    def __init__(self, bot: Bot, settings: Settings | None = None) -> None:
        self.bot = bot
        self.settings = settings or bot.settings
        check_teams_settings(self.settings)
        if self.settings.teams_allow_anonymous:
            log.warning("Teams: anonymous access is ON (HELPDESK_TEAMS_ALLOW_ANONYMOUS); tokens are not checked. "
                        "Use this for local testing only.")
        self.anonymous = self.settings.teams_allow_anonymous and not self.settings.teams_app_id
        self.auth = _auth_configuration(self.settings)
        self.connections = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": self.auth})
        self.adapter = CloudAdapter(connection_manager=self.connections)
        self.adapter.on_turn_error = self._turn_error
        self.app: AgentApplication[TurnState] = AgentApplication[TurnState](
            storage=MemoryStorage(),  # the SDK's turn state; ours is all in the database
            connection_manager=self.connections,
            start_typing_timer=False,
            remove_recipient_mention=True,
        )
        self.teams = TeamsAgentExtension[TurnState](self.app)
        self.references = ReferenceStore(bot.db)
        self._technicians: tuple[float, frozenset[str]] = (0.0, frozenset())
        self._tasks: set[asyncio.Task[None]] = set()
        self._register_routes()
        bot.inbox.register(self.name, self._handle_entry)

    # Wiring -----------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        """Add ``POST /api/messages`` (JWT-checked) to the bot's aiohttp application."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK's middleware reads this plain string key
            web_app["agent_configuration"] = self.auth
        web_app.router.add_post(ROUTE, jwt_authorization_decorator(self._messages))

    def _register_routes(self) -> None:
        self.teams.activity(ActivityTypes.message)(self._on_message)
        self.teams.activity(ActivityTypes.conversation_update)(self._on_membership)
        self.teams.activity(ActivityTypes.installation_update)(self._on_membership)
        self.app.adaptive_card.action_execute(_ANY_VERB)(self._on_action)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        """The endpoint: reject malformed activities with 400, then let the SDK run the turn."""
        try:
            body = loads(await request.read())
        except BadInput as exc:
            return web.json_response({"error": f"the body must be a JSON activity ({exc})"}, status=400)
        problem = _malformed(body)
        if problem:
            return web.json_response({"error": problem}, status=400)
        response = await self.adapter.process(request, self.app)
        return response or web.Response(status=202)

    async def _turn_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed (%s activity): %s", context.activity.type, type(error).__name__,
                  exc_info=error)

    async def drain(self) -> None:
        """Wait until every message being handled in the background is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # Incoming -----------------------------------------------------------------

    async def _on_membership(self, context: TurnContext, _state: TurnState) -> None:
        """``conversationUpdate`` / ``installationUpdate``: store the reference for proactive messages."""
        activity = context.activity
        if activity.type == ActivityTypes.installation_update and activity.action in ("remove", "remove-upgrade"):
            return
        removed = {member.id for member in activity.members_removed or []}
        if activity.recipient is not None and activity.recipient.id in removed:  # the bot was taken out
            return
        user_id = _aad(activity) if _kind(activity) == "personal" else None
        email = await self._member_email(context) if user_id else None
        await self._remember(activity, user_id=user_id, email=email)
        if user_id and email:  # so that user_address(email) reaches this chat before they ever write
            await self.bot.identity.resolve(self.name, user_id, email=email,
                                            display_name=activity.from_property.name or "",
                                            private_conversation=activity.conversation.id)

    async def _on_message(self, context: TurnContext, _state: TurnState) -> None:
        """A message: resolve who wrote it (inline, with the turn's connector), then handle it in the background."""
        activity = context.activity
        turn = await self._turn(context)
        if turn is None:
            sorry = Reply("Sorry, I could not look up who you are in Teams just now. Please try again in a minute.")
            await context.send_activity(Activity(type=ActivityTypes.message, attachments=[card_attachment(sorry)]))
            return
        turn.text = _plain_text(activity.text or "")
        entry = await self.bot.inbox.accept(self.name, activity.id or "", "message", _stored(turn))
        if entry is None:  # a retry of an activity already in the inbox
            metrics.DUPLICATES.labels(self.name).inc()
            return
        task = asyncio.create_task(self._process(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_action(self, context: TurnContext, _state: TurnState, data: Any) -> AdaptiveCardInvokeResponse:
        """A card button or form: handle the turn now and answer with the refreshed card, if any."""
        found = action_of(data)
        if found is None:
            return AdaptiveCardInvokeResponse(status_code=400, type="application/vnd.microsoft.error",
                                              value={"code": "BadRequest", "message": "not a helpdesk action"})
        if found[0] == FORGET:  # the card that showed a secret is replaced by one that does not
            log.info("Teams: a card with a secret was emptied at its reader's request")
            return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=render_card(Reply(
                "Your temporary password was shown here once and has been removed from this chat.")))
        turn = await self._turn(context)
        if turn is None:
            return _message_response("Sorry, I could not tell who you are.")
        technicians = base_conversation(self.settings.teams_technician_channel or "")
        if technicians and base_conversation(turn.conversation_id) == technicians and \
                turn.employee is not None and not turn.employee.is_technician:
            # Refused before anything is handled, so the card stays as it is; the answer is seen by the clicker only.
            await self.bot.audit.record(turn.employee.email, "teams.click", target=found[0][:200], outcome="refused",
                                        detail="requires the technician role")
            return _message_response("Sorry, only IT technicians can use the buttons in this channel, "
                                     "so nothing was changed.")
        turn.action, turn.form = found
        entry = await self.bot.inbox.accept(self.name, context.activity.id or "", "click", _stored(turn))
        if entry is None:
            metrics.DUPLICATES.labels(self.name).inc()
            return _message_response("Done.")
        invoked = {"activity_id": context.activity.reply_to_id, "card": None}
        token = _invoked.set(invoked)
        try:
            await self._process(entry)
        finally:
            _invoked.reset(token)
        if invoked["card"] is not None:
            return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=invoked["card"])
        return _message_response("Done.")

    async def _process(self, entry: InboxEntry) -> None:
        try:
            await self.bot.inbox.process(entry)
        except Exception:
            log.exception("Teams: handling a turn failed")

    async def _handle_entry(self, entry: InboxEntry) -> None:
        """Handle one inbox item: the turn stored when the activity came in."""
        await self.bot.expire_approvals()
        await self.bot.handle(_restored(entry.payload), deduplicated=True)

    async def _turn(self, context: TurnContext) -> Turn | None:
        """The Turn for an incoming activity, with the employee resolved; stores the conversation reference."""
        activity = context.activity
        aad = _aad(activity)
        if not aad or activity.from_property is None:
            log.warning("Teams: activity %s has no sender object id; ignored", activity.id)
            return None
        kind = _kind(activity)
        email = await self._known_email(aad) or await self._member_email(context)
        if not email:
            log.warning("Teams: no email for the sender of activity %s; ignored", activity.id)
            return None
        await self._remember(activity, user_id=aad if kind == "personal" else None,
                             email=email if kind == "personal" else None)
        if kind == "personal":
            private = activity.conversation.id
        else:
            personal = await self.references.personal(user_id=aad)
            private = personal.conversation_id if personal else None
        technician = await self._is_technician(context, aad)
        employee = await self.bot.identity.resolve(
            self.name, aad, email=email, display_name=activity.from_property.name or "",
            private_conversation=private, technician=technician,
        )
        reference = activity.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)
        thread_key = None
        if kind == "channel" and activity.type == ActivityTypes.message:
            thread_key = await self._thread_key(activity)
        return Turn(
            channel=self.name, user_id=aad, conversation_id=activity.conversation.id, event_id=activity.id,
            thread_id=activity.id if kind == "channel" else None, thread_key=thread_key, employee=employee,
            raw={"kind": kind, "reference": reference, "from_id": activity.from_property.id},
        )

    async def _thread_key(self, activity: Activity) -> str | None:
        """The key of the bot message that a channel message replies under (its reply chain), if any."""
        conversation_id = activity.conversation.id
        root = conversation_id.partition(";messageid=")[2]
        if not activity.reply_to_id and root in ("", activity.id):
            return None  # a new post, not a reply
        candidates = [i for i in dict.fromkeys((activity.reply_to_id or "", root)) if i]
        return await self.references.key_answered(conversation_id, candidates)

    async def _known_email(self, aad: str) -> str | None:
        """The email the bot already has for this Teams user (from an earlier members-API lookup)."""
        account = await self.bot.db.run(
            lambda s: s.exec(
                select(ChatAccount).where(ChatAccount.channel == self.name, ChatAccount.user_id == aad)
            ).first()
        )
        return account.email if account else None

    async def _member_email(self, context: TurnContext) -> str | None:
        """The sender's email from the conversation-members API."""
        activity = context.activity
        connector = context.services.get(ConnectorClientBase)
        if connector is None or activity.from_property is None:
            return None
        try:
            member = await _retrying(
                lambda: connector.conversations.get_conversation_member(
                    base_conversation(activity.conversation.id), activity.from_property.id),
                self.settings,
            )
        except aiohttp.ClientError as exc:
            log.warning("Teams: members API failed: %s", type(exc).__name__)
            return None
        extra = member.model_extra or {}
        email = extra.get("email") or extra.get("userPrincipalName") or ""
        return str(email).strip().lower() or None

    async def _is_technician(self, context: TurnContext, aad: str) -> bool:
        """True when ``aad`` is a member of the technicians' channel (cached for a few minutes)."""
        channel = self.settings.teams_technician_channel
        connector = context.services.get(ConnectorClientBase)
        if not channel or connector is None:
            return False
        fetched_at, members = self._technicians
        if time.monotonic() - fetched_at > TECHNICIAN_CACHE_SECONDS:
            try:
                roster = await _retrying(
                    lambda: connector.conversations.get_conversation_members(base_conversation(channel)),
                    self.settings,
                )
            except aiohttp.ClientError as exc:
                log.warning("Teams: cannot read the technicians' channel roster: %s", type(exc).__name__)
                return aad in members
            members = frozenset(m.aad_object_id for m in roster if m.aad_object_id)
            self._technicians = (time.monotonic(), members)
        return aad in members

    async def _remember(self, activity: Activity, *, user_id: str | None, email: str | None) -> None:
        reference = activity.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)
        reference.pop("activityId", None)
        team = (activity.channel_data or {}) if isinstance(activity.channel_data, dict) else {}
        team_id = (team.get("team") or {}).get("id") if isinstance(team, dict) else None
        if team_id is None and hasattr(activity, "get_team_info"):
            info = activity.get_team_info()
            team_id = info.id if info else None
        await self.references.remember(
            reference, kind=_kind(activity), user_id=user_id, email=email, team_id=team_id,
            tenant_id=activity.conversation.tenant_id or self.settings.teams_tenant_id,
        )

    # Outgoing -----------------------------------------------------------------

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
        reference = await self._where(reply, origin)
        if reference is None:
            log.warning("Teams: nowhere to send a reply addressed to %r", reply.to)
            return
        if reply.secret:  # Teams has no ephemeral messages: the card is emptied once the person has noted it
            reply = replace(reply, buttons=(*reply.buttons, Button(FORGET, "I have noted it: remove it")))
        mention = None
        if reply.thread or reply.mention:
            reference, mention = await self._thread_and_mention(reply, reference)
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

        activity_id = await self._with_connector(reference, post)
        if reply.key and activity_id:
            await self.references.keep_message(reply.key, conversation_id, activity_id)

    async def _thread_and_mention(
        self, reply: Reply, reference: dict[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
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

    async def _in_thread(self, reference: dict[str, Any], key: str) -> dict[str, Any]:
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
        if to.startswith("user:"):
            row = await self.references.get(kept.conversation_id)
            return row is not None and row.kind == "personal" and row.email == to.removeprefix("user:").lower()
        if to == TECHNICIANS:
            to = self.settings.teams_technician_channel or ""
        elif to.startswith("room:"):
            to = to.removeprefix("room:").partition(":")[2]
        return bool(to) and base_conversation(kept.conversation_id) == base_conversation(to)

    async def _update(self, reply: Reply, conversation_id: str, activity_id: str, origin: Turn | None) -> None:
        stored = await self.references.get(conversation_id)
        reference = stored.reference if stored else await self._fallback_reference(conversation_id, origin)
        if reference is None:
            log.warning("Teams: cannot update message %s: its conversation is unknown", reply.replaces)
            return
        activity = self._activity(reply, reference)
        activity.id = activity_id

        async def put(connector: ConnectorClientBase) -> str:
            await connector.conversations.update_activity(conversation_id, activity_id, activity)
            return activity_id

        await self._with_connector(reference, put)
        invoked = _invoked.get()
        if invoked is not None and invoked["activity_id"] == activity_id:
            invoked["card"] = render_card(reply)

    def _activity(self, reply: Reply, reference: dict[str, Any], mention: dict[str, Any] | None = None) -> Activity:
        activity = Activity(type=ActivityTypes.message, summary=reply.text[:200] or None,
                            attachments=[card_attachment(reply, mention)])
        ref = ConversationReference.model_validate({k: v for k, v in reference.items() if k != "activityId"})
        return activity.apply_conversation_reference(ref)

    async def _where(self, reply: Reply, origin: Turn | None) -> dict[str, Any] | None:
        """The reference of the conversation ``reply`` goes to (a thread reply carries ``activityId``)."""
        to = reply.to
        if to == TECHNICIANS:
            channel = self.settings.teams_technician_channel
            if not channel:
                log.warning("Teams: HELPDESK_TEAMS_TECHNICIAN_CHANNEL is not set; the technicians miss a message")
                return None
            stored = await self.references.get(channel)
            return stored.reference if stored else await self._fallback_reference(channel, origin)
        if to is not None and to.startswith("user:"):
            return await self._personal(to.removeprefix("user:"), origin)
        conversation = to or (origin.conversation_id if origin else None)
        if conversation is None:
            return None
        from_origin = origin is not None and origin.channel == self.name and conversation == origin.conversation_id
        if from_origin and origin is not None and "reference" in origin.raw:
            kind = origin.raw.get("kind")
            if reply.private and kind != "personal":
                return await self._personal(origin.email, origin)
            reference = dict(origin.raw["reference"])
            if kind != "channel":
                reference.pop("activityId", None)
            return reference
        if from_origin and origin is not None and reply.private:  # a turn the engine made (an approval's requester)
            account = await self.bot.identity.account(origin.email) if origin.employee else None
            if account is not None and account.private_conversation:
                conversation = account.private_conversation
        stored = await self.references.get(conversation)
        return stored.reference if stored else await self._fallback_reference(conversation, origin)

    async def _personal(self, email: str, origin: Turn | None) -> dict[str, Any] | None:
        """The employee's personal chat; created (``POST /v3/conversations``) when the bot knows them but has none."""
        stored = await self.references.personal(email=email)
        if stored is not None:
            return stored.reference
        account = await self.bot.identity.account(email)
        if account is None or account.channel != self.name:
            return None
        base = await self._template(origin)
        if base is None:
            return None
        from_id = origin.raw.get("from_id") if origin is not None and origin.user_id == account.user_id else None
        tenant = base.get("conversation", {}).get("tenantId") or self.settings.teams_tenant_id
        params = ConversationParameters(
            is_group=False, agent=ChannelAccount.model_validate(base["bot"]) if base.get("bot") else None,
            members=[ChannelAccount(id=from_id or f"8:orgid:{account.user_id}", aad_object_id=account.user_id)],
            tenant_id=tenant, channel_data={"tenant": {"id": tenant}} if tenant else None,
        )

        async def create(connector: ConnectorClientBase) -> str:
            created = await connector.conversations.create_conversation(params)
            return created.id

        conversation_id = await self._with_connector(base, create)
        if not conversation_id:
            return None
        reference = {k: v for k, v in base.items() if k not in ("activityId", "user")}
        reference["conversation"] = {"id": conversation_id, "conversationType": "personal", "tenantId": tenant}
        reference["user"] = {"id": from_id or f"8:orgid:{account.user_id}", "aadObjectId": account.user_id}
        await self.references.remember(reference, kind="personal", user_id=account.user_id, email=email,
                                       tenant_id=tenant)
        return reference

    async def _template(self, origin: Turn | None) -> dict[str, Any] | None:
        """A stored reference to copy the service URL, the bot and the tenant from (the turn's, or the newest)."""
        if origin is not None and origin.channel == self.name and "reference" in origin.raw:
            return dict(origin.raw["reference"])
        known: TeamsConversation | None = await self.references.any()
        return dict(known.reference) if known else None

    async def _fallback_reference(self, conversation_id: str, origin: Turn | None) -> dict[str, Any] | None:
        """A reference for a conversation the bot has not stored (say, the technicians' channel), built from
        one it has: a conversation id is all Teams needs besides the service URL and the bot."""
        template = await self._template(origin) if conversation_id else None
        if template is None:
            return None
        reference = {k: v for k, v in template.items() if k not in ("activityId", "user")}
        tenant = template.get("conversation", {}).get("tenantId") or self.settings.teams_tenant_id
        reference["conversation"] = {"id": conversation_id, "tenantId": tenant}
        return reference

    async def _with_connector(self, reference: dict[str, Any], work: Callable[[ConnectorClientBase], Awaitable[T]]) -> T:
        """Run ``work`` with a connector client for ``reference``'s service URL, retrying 429 and 5xx."""
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()

        async def attempt() -> T:
            box = _Box()

            async def callback(context: TurnContext) -> None:
                try:
                    connector = context.services.get(ConnectorClientBase)
                    box.result = await work(connector)
                except BaseException as exc:  # handed back to the caller below
                    box.error = exc

            if self.anonymous:
                await self.adapter.continue_conversation_with_claims(ClaimsIdentity({}), continuation, callback)
            else:
                await self.adapter.continue_conversation(self.settings.teams_app_id or "", continuation, callback)
            if box.error is not None:
                raise box.error
            return box.result  # type: ignore[no-any-return]

        try:
            return await _retrying(attempt, self.settings)
        except aiohttp.ClientError as exc:
            status = getattr(exc, "status", None)
            raise IntegrationError("Microsoft Teams", f"the Bot Connector failed ({status or type(exc).__name__})") from exc


async def _retrying(call: Callable[[], Awaitable[T]], settings: Settings) -> T:
    """``call()``, retried with exponential backoff when the connector answers 429 or 5xx."""
    attempts = settings.teams_retry_attempts
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except aiohttp.ClientResponseError as exc:
            if exc.status not in _RETRIED or attempt == attempts:
                raise
            delay = settings.teams_retry_seconds * 2 ** (attempt - 1)
            retry_after = (exc.headers or {}).get("Retry-After") if exc.headers else None
            if retry_after and retry_after.replace(".", "", 1).isdigit():
                delay = max(delay, min(float(retry_after), 60.0))
            log.warning("Teams connector answered %s; retrying in %.2fs (attempt %d of %d)",
                        exc.status, delay, attempt, attempts)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _message_response(text: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.activity.message", value=text)


def _aad(activity: Activity) -> str | None:
    sender = activity.from_property
    return (sender.aad_object_id or None) if sender is not None else None


def _kind(activity: Activity) -> str:
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind or "personal"


def _stored(turn: Turn) -> dict[str, Any]:
    """``turn`` as JSON for the inbox (it is whole once the sender is resolved, which needs the live activity)."""
    return dataclasses.asdict(turn)


def _restored(stored: dict[str, Any]) -> Turn:
    """The turn ``_stored`` wrote."""
    values = dict(stored)
    employee = values.pop("employee", None)
    return Turn(**values, employee=Employee(**employee) if employee else None)


_MARKUP = re.compile(r"</?(?:at|p|div|span|br|b|i|strong|em)\b[^>]*>", re.IGNORECASE)


def _plain_text(text: str) -> str:
    """The message as typed: Teams' HTML markup and entities removed (the bot's own @mention is already gone).

    Other people's mentions keep their names ("<at>Tom</at>" becomes "Tom").
    """
    plain = html.unescape(_MARKUP.sub(" ", text)).replace("\xa0", " ")
    return re.sub(r"[ \t]{2,}", " ", plain).strip()


def _malformed(body: object) -> str | None:
    """Why ``body`` is not an activity we can handle, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (an activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "the activity has no type"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str) or not conversation["id"]:
        return "the activity has no conversation.id"
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"].startswith(("https://", "http://")):
        return "the activity has no serviceUrl"
    if not isinstance(body.get("text", ""), str | None):
        return "the activity's text is not a string"
    sender = body.get("from")
    try:
        clean_id(conversation["id"], "conversation.id", limit=CONVERSATION_ID_CHARS)
        if sender is not None:
            if not isinstance(sender, dict):
                return "the activity's from is not an object"
            for name in ("id", "aadObjectId"):
                if sender.get(name) is not None:
                    clean_id(sender[name], f"from.{name}")
    except BadInput as exc:
        return str(exc)
    try:
        Activity.model_validate(body)
    except ValidationError as exc:
        return f"the activity is not valid: {exc.error_count()} field(s) wrong"
    return None
