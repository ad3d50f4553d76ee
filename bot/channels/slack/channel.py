"""The Slack channel: slack-bolt's ``AsyncApp`` in HTTP mode (``POST /slack/events``) or Socket Mode.

Every listener writes what came in to the inbox (``bot.services.inbox``) with
its dedup key, acks, and hands the slow part (the directory, tickets, the NLU,
the Web API calls) to a task of its own, so Slack always has its answer within
3 seconds and a crash after the ack loses nothing: the row is handled after a
restart, or by another replica. A Slack retry of an event already in the
inbox is dropped by the row's unique key, not by memory, so it holds across
restarts and replicas.

Slack's agent panel (greeting, suggested prompts, status, thread titles) is
``panel.AgentPanel``; its threads are DM threads, handled as DMs.

Replies are rendered as Block Kit (``blocks``) and posted by ``sender``; the
turn an acked item becomes is built in ``turns``, people are resolved in
``people`` (through ``IdentityService``), and keyed messages are found in ``posted``. A reply with ``key``
records where it was posted in ``slack_message`` and carries the key in the
message's metadata; a later reply with ``replaces`` updates that message with
``chat.update``, one with ``thread`` is posted in its thread, and a person's
message in that thread, or in a thread where the bot posted a keyed answer
(one an @mention started), comes in with ``Turn.thread_key`` set to the key.
``was_delivered`` finds a keyed message again (the table, else the
conversation's recent history), so a resumed fan-out sends nobody a notice twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import FORM_CALLBACK, OPEN_FORM
from bot.channels.slack.client import make_client
from bot.channels.slack.panel import AgentPanel
from bot.channels.slack.payloads import dedup_key, parse_body, senseless
from bot.channels.slack.people import SlackPeople
from bot.channels.slack.posted import PostedMessages
from bot.channels.slack.sender import SlackSender
from bot.channels.slack.turns import SlackTurns
from bot.core import metrics
from bot.core.errors import ConfigError
from bot.core.messages import Employee, Reply, Turn
from bot.engine.prompts import prompts_for
from bot.store import InboxEntry

if TYPE_CHECKING:
    from bot.engine.host import ChannelHost

__all__ = ["SlackChannel", "make_client"]

log = logging.getLogger(__name__)

EVERYTHING = re.compile(".*")
CONCURRENT_TURNS = 4  # after-ack jobs running at once; the rest wait, so acks stay fast under a burst


class SlackChannel:
    """Slack as a chat platform for the bot: events in, Block Kit out."""

    name = "slack"

    def __init__(self, bot: ChannelHost, client: AsyncWebClient | None = None) -> None:
        settings = bot.settings
        if not settings.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN: needed for the Slack channel")
        self.bot = bot
        self.settings = settings
        self.client = client or make_client(settings)
        secret = settings.slack_signing_secret
        self.verifier = SignatureVerifier(secret) if secret else None
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            # handle_http checks the signature before bolt sees the request (Socket Mode needs none),
            # so bolt's own check would only compute the same HMAC a second time before the ack.
            request_verification_enabled=False,
            process_before_response=True,  # listeners only ack and start a task, so this answers at once
            logger=logging.getLogger("slack_bolt"),
        )
        self._jobs: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_TURNS)
        self._socket: Any = None
        self.people = SlackPeople(self.client, bot.identity, settings)
        self.posted = PostedMessages(bot.db)
        self.sender = SlackSender(self.client, self.people, self.posted, settings)
        self.panel = AgentPanel(self.client, self.people, self.posted, spawn=self._spawn, deliver=bot.deliver,
                                prompts=lambda employee, limit: prompts_for(bot.skills, employee, limit))
        self.turns = SlackTurns(bot, self.client, self.people, self.posted, self.panel)
        self.app.assistant(self.panel.middleware())
        self._listen()
        bot.inbox.register(self.name, self._handle_entry)

    # Transports ----------------------------------------------------------------

    def attach(self, web_app: web.Application) -> None:
        """Serve ``POST /slack/events`` on the bot's aiohttp server (HTTP mode)."""
        if not self.settings.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET: needed to verify Slack's requests in HTTP mode "
                              "(or set SLACK_APP_TOKEN for Socket Mode)")
        web_app.router.add_post("/slack/events", self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        """One request from Slack: 401 unless signed within 5 minutes, 400 if malformed, else bolt's answer."""
        self._keep_alive()
        raw = await request.read()
        headers = request.headers
        body = raw.decode("utf-8", errors="replace")
        if not self._signed(body, headers.get("X-Slack-Request-Timestamp", ""), headers.get("X-Slack-Signature", "")):
            return web.json_response({"error": "invalid or stale signature"}, status=401)
        payload = parse_body(body, headers.get("Content-Type", ""))
        if payload is None:
            return web.json_response({"error": "malformed body"}, status=400)
        problem = senseless(payload)
        if problem:  # signed by Slack, yet nobody to answer: acked so that Slack does not retry it
            log.info("ignored a signed Slack request: %s", problem)
            return web.json_response({})
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=dict(headers))
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    def _signed(self, body: str, timestamp: str, signature: str) -> bool:
        """True when Slack signed ``body`` with our signing secret less than 5 minutes ago."""
        if self.verifier is None or not timestamp.isdigit() or not signature:
            return False
        return self.verifier.is_valid(body, timestamp, signature)

    async def connect_socket_mode(self, app_token: str) -> None:
        """Open the Socket Mode websocket (the URL comes from ``apps.connections.open``)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self._keep_alive()
        self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
        await self._socket.connect_async()

    async def close(self) -> None:
        """Close Socket Mode (if open) and finish the work already acked."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.drain()
        if self.client.session is not None:
            await self.client.session.close()

    def _keep_alive(self) -> None:
        """One HTTP session for every Web API call (slack_sdk would open one per call otherwise)."""
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def drain(self) -> None:
        """Wait until every piece of after-ack work has finished."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None], *, limited: bool = True) -> None:
        """Run ``work`` after the ack; ``limited`` waits for one of the ``CONCURRENT_TURNS`` slots first."""
        task = asyncio.get_running_loop().create_task(self._guarded(work, limited))
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)

    async def _guarded(self, work: Coroutine[Any, Any, None], limited: bool) -> None:
        try:
            self._keep_alive()
            if not limited:
                await work
                return
            async with self._slots:
                await work
        except SlackApiError as exc:
            metrics.ERRORS.labels("slack").inc()
            log.warning("Slack Web API call failed: %s", exc.response.get("error", exc.response.status_code))
        except Exception:
            metrics.ERRORS.labels("slack").inc()
            log.exception("Slack work after the ack failed")

    # Listeners -----------------------------------------------------------------

    def _listen(self) -> None:
        app = self.app

        @app.event("message")
        async def message(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id"):
                await self._accept("message", str(body.get("event_id") or ""), {"body": body})

        @app.event("app_mention")
        async def mention(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
            if event.get("bot_id"):
                return
            await self._accept("mention", str(body.get("event_id") or ""),
                               {"body": body, "bot_user_id": context.get("bot_user_id")})

        @app.event("app_home_opened")
        async def home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("tab", "home") == "home":
                await self._accept("home", str(body.get("event_id") or ""), {"body": body})

        # Bolt tries listeners in order and each try costs; every event listener comes before the
        # commands and actions, so an event the bot ignores is matched after four tries, not nine.
        @app.event(EVERYTHING)
        async def other_event() -> None:
            return None

        @app.command("/helpdesk")
        async def helpdesk(ack: Any, command: dict[str, Any]) -> None:
            await self._accept("command", dedup_key("command", command.get("trigger_id")), {"body": command})
            await ack()

        @app.command("/announce")
        async def announce(ack: Any, command: dict[str, Any]) -> None:
            await self._accept("announce", dedup_key("command", command.get("trigger_id")), {"body": command})
            await ack()

        @app.action(OPEN_FORM)
        async def open_form(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()  # only opens a modal (its trigger lasts 3 s), so there is nothing to keep
            self._spawn(self.turns.open_form(body, action))

        @app.action(EVERYTHING)
        async def click(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            user = body.get("user")
            key = dedup_key("action", user.get("id") if isinstance(user, dict) else None, action.get("action_ts"))
            await self._accept("click", key, {"body": body, "action": action})
            await ack()

        @app.view(FORM_CALLBACK)
        async def submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            await self._accept("submit", dedup_key("view", view.get("id")), {"body": body})
            await ack()

        # Anything else is acked and ignored, so Slack does not retry it.
        @app.command(EVERYTHING)
        async def other_command(ack: Any) -> None:
            await ack()

        @app.view(EVERYTHING)
        async def other_view(ack: Any) -> None:
            await ack()

        @app.shortcut(EVERYTHING)
        async def other_shortcut(ack: Any) -> None:
            await ack()

        @app.options(EVERYTHING)
        async def other_options(ack: Any) -> None:
            await ack(options=[])

    # After the ack ---------------------------------------------------------------

    async def _accept(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        """Write the item to the inbox before the ack, then handle it after; a repeat is dropped."""
        entry = await self.bot.inbox.accept(self.name, key, kind, payload)
        if entry is None:
            metrics.DUPLICATES.labels(self.name).inc()
            return
        self._spawn(self.bot.inbox.process(entry), limited=False)  # the claim is renewed while it waits

    async def _handle_entry(self, entry: InboxEntry) -> None:
        """Handle one inbox item (the work a listener used to start right after the ack), in a turn slot."""
        self._keep_alive()
        async with self._slots:
            await self.turns.dispatch(entry)

    # The engine's side -------------------------------------------------------------

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Render ``reply`` as Block Kit and post it (see ``SlackSender.send``)."""
        self._keep_alive()  # a send from the scheduler (a fan-out) has no request that opened the session
        await self.sender.send(reply, origin)

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is already in ``reply.to`` (``DeliveryCheck``)."""
        self._keep_alive()
        return await self.sender.was_delivered(reply)

    async def employee(self, user_id: str, *, dm: str | None = None) -> Employee | None:
        """The employee behind a Slack user, or None for a bot or guest (see ``SlackPeople.employee``)."""
        return await self.people.employee(user_id, dm=dm)

    async def group_members(self, handle: str) -> list[str]:
        """The emails of the members of the Slack user group ``handle`` (for announcements to a group)."""
        return await self.people.group_members(handle)

    async def publish_home(self, user_id: str) -> None:
        """Publish the App Home tab for ``user_id``: tickets, outages, quick actions, pending approvals."""
        await self.turns.publish_home(user_id)
