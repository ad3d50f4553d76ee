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

This module holds the route and the incoming side; ``sender`` and
``destinations`` the outgoing one, ``people`` who wrote, ``connector`` the Bot
Connector calls, ``activities`` the reading of activities, ``auth`` the settings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes, AdaptiveCardInvokeResponse
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, TurnContext, TurnState
from microsoft_agents.hosting.msteams import TeamsAgentExtension

from bot.channels.teams.activities import (
    conversation_kind,
    malformed,
    message_response,
    plain_text,
    restored_turn,
    sender_aad,
    stored_turn,
)
from bot.channels.teams.auth import auth_configuration, check_teams_settings
from bot.channels.teams.cards import CARD_CONTENT_TYPE, action_of, render_card
from bot.channels.teams.connector import Connector
from bot.channels.teams.destinations import Destinations
from bot.channels.teams.people import TeamsPeople
from bot.channels.teams.references import ReferenceStore, base_conversation
from bot.channels.teams.sender import FORGET, INVOKED, TeamsSender, card_activity
from bot.core import metrics
from bot.core.inbound import BadInput, loads
from bot.core.messages import Reply, Turn
from bot.core.settings import Settings
from bot.engine.host import ChannelHost
from bot.store import InboxEntry

__all__ = ["FORGET", "ROUTE", "TeamsChannel", "check_teams_settings"]

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
_ANY_VERB = re.compile(r".+")


class TeamsChannel:
    """The Teams channel: the ``/api/messages`` route and ``send`` for the engine."""

    name = "teams"

    def __init__(self, bot: ChannelHost, settings: Settings | None = None) -> None:
        self.bot = bot
        self.settings = settings or bot.settings
        check_teams_settings(self.settings)
        if self.settings.teams_allow_anonymous:
            log.warning("Teams: anonymous access is ON (HELPDESK_TEAMS_ALLOW_ANONYMOUS); tokens are not checked. "
                        "Use this for local testing only.")
        self.anonymous = self.settings.teams_allow_anonymous and not self.settings.teams_app_id
        self.auth = auth_configuration(self.settings)
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
        self.people = TeamsPeople(bot.identity, self.settings)
        self.connector = Connector(self.adapter, self.settings, anonymous=self.anonymous)
        self.destinations = Destinations(self.references, bot.identity, self.connector, self.settings)
        self.sender = TeamsSender(self.references, self.destinations, self.connector, self.settings)
        self._tasks: set[asyncio.Task[None]] = set()
        self._register_routes()
        bot.inbox.register(self.name, self._handle_entry)

    # Wiring -----------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        """Add ``POST /api/messages`` (JWT-checked) to the bot's aiohttp application."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK's middleware reads this plain string key
            web_app["agent_configuration"] = self.auth
        web_app.router.add_post(ROUTE, jwt_authorization_decorator(self._messages))  # type: ignore[no-untyped-call]

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
        problem = malformed(body)
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
        user_id = sender_aad(activity) if conversation_kind(activity) == "personal" else None
        email = await self.people.member_email(context) if user_id else None
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
            await context.send_activity(card_activity(sorry))
            return
        turn.text = plain_text(activity.text or "")
        entry = await self.bot.inbox.accept(self.name, activity.id or "", "message", stored_turn(turn))
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
            return message_response("Sorry, I could not tell who you are.")
        technicians = base_conversation(self.settings.teams_technician_channel or "")
        if technicians and base_conversation(turn.conversation_id) == technicians and \
                turn.employee is not None and not turn.employee.is_technician:
            # Refused before anything is handled, so the card stays as it is; the answer is seen by the clicker only.
            await self.bot.audit.record(turn.employee.email, "teams.click", target=found[0][:200], outcome="refused",
                                        detail="requires the technician role")
            return message_response("Sorry, only IT technicians can use the buttons in this channel, "
                                     "so nothing was changed.")
        turn.action, turn.form = found
        entry = await self.bot.inbox.accept(self.name, context.activity.id or "", "click", stored_turn(turn))
        if entry is None:
            metrics.DUPLICATES.labels(self.name).inc()
            return message_response("Done.")
        invoked = {"activity_id": context.activity.reply_to_id, "card": None}
        token = INVOKED.set(invoked)
        try:
            await self._process(entry)
        finally:
            INVOKED.reset(token)
        if invoked["card"] is not None:
            return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=invoked["card"])
        return message_response("Done.")

    async def _process(self, entry: InboxEntry) -> None:
        try:
            await self.bot.inbox.process(entry)
        except Exception:
            log.exception("Teams: handling a turn failed")

    async def _handle_entry(self, entry: InboxEntry) -> None:
        """Handle one inbox item: the turn stored when the activity came in."""
        await self.bot.handle(restored_turn(entry.payload), deduplicated=True)

    async def _turn(self, context: TurnContext) -> Turn | None:
        """The Turn for an incoming activity, with the employee resolved; stores the conversation reference."""
        activity = context.activity
        aad = sender_aad(activity)
        if not aad or activity.from_property is None:
            log.warning("Teams: activity %s has no sender object id; ignored", activity.id)
            return None
        kind = conversation_kind(activity)
        email = await self.people.known_email(aad) or await self.people.member_email(context)
        if not email:
            log.warning("Teams: no email for the sender of activity %s; ignored", activity.id)
            return None
        await self._remember(activity, user_id=aad if kind == "personal" else None,
                             email=email if kind == "personal" else None)
        private: str | None
        if kind == "personal":
            private = activity.conversation.id
        else:
            personal = await self.references.personal(user_id=aad)
            private = personal.conversation_id if personal else None
        technician = await self.people.is_technician(context, aad)
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

    async def _remember(self, activity: Activity, *, user_id: str | None, email: str | None) -> None:
        reference = activity.get_conversation_reference().model_dump(mode="json", by_alias=True, exclude_none=True)
        reference.pop("activityId", None)
        team = (activity.channel_data or {}) if isinstance(activity.channel_data, dict) else {}
        team_id = (team.get("team") or {}).get("id") if isinstance(team, dict) else None
        if team_id is None and hasattr(activity, "get_team_info"):
            info = activity.get_team_info()
            team_id = info.id if info else None
        await self.references.remember(
            reference, kind=conversation_kind(activity), user_id=user_id, email=email, team_id=team_id,
            tenant_id=activity.conversation.tenant_id or self.settings.teams_tenant_id,
        )

    # Outgoing -----------------------------------------------------------------

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Render ``reply`` as a card and post it where it belongs (see ``TeamsSender.send``)."""
        await self.sender.send(reply, origin)

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is recorded as posted to ``reply.to`` (``DeliveryCheck``)."""
        return await self.sender.was_delivered(reply)
