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

Replies are rendered as Block Kit (``blocks``). A reply with ``key``
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
import time
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session, col, select

from bot.core import metrics
from bot.channels.slack.panel import AgentPanel
from bot.channels.slack.blocks import (
    FORM_CALLBACK,
    OPEN_FORM,
    chosen_label,
    decided_blocks,
    fallback_text,
    form_from_value,
    home_view,
    message_blocks,
    modal_view,
    submitted_values,
)
from bot.core.errors import ConfigError, IntegrationError
from bot.surfaces.home import home_for
from bot.core.inbound import BadInput, clean_id, loads
from bot.core.messages import TECHNICIANS, Employee, Reply, Turn
from bot.core.settings import Settings
from bot.store import ChatAccount, InboxEntry, SlackMessage, utcnow

if TYPE_CHECKING:
    from bot.app import Bot

__all__ = ["SlackChannel", "make_client"]

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(hours=1)  # how long a users.info answer is trusted before asking again
GROUP_TTL = 300.0  # seconds a technician group's membership is trusted
EVERYTHING = re.compile(".*")
CONCURRENT_TURNS = 4  # after-ack jobs running at once; the rest wait, so acks stay fast under a burst
METADATA_EVENT = "helpdesk_notice"
"""The ``event_type`` of the metadata on the bot's keyed messages (``event_payload`` is ``{"key": ...}``)."""
HISTORY_LOOKBACK = 50  # newest messages of a conversation searched for a keyed message that was not recorded


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: ``SLACK_API_URL``, and retries on 429 (honouring Retry-After), 5xx and lost connections."""
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=base_url,
        timeout=30,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=3),
        ],
    )


class SlackChannel:
    """Slack as a chat platform for the bot: events in, Block Kit out."""

    name = "slack"

    def __init__(self, bot: Bot, client: AsyncWebClient | None = None) -> None:
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
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._socket: Any = None
        self.panel = AgentPanel(self)
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
        payload = _payload(body, headers.get("Content-Type", ""))
        if payload is None:
            return web.json_response({"error": "malformed body"}, status=400)
        problem = _senseless(payload)
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
            await self._accept("command", _dedup_key("command", command.get("trigger_id")), {"body": command})
            await ack()

        @app.command("/announce")
        async def announce(ack: Any, command: dict[str, Any]) -> None:
            await self._accept("announce", _dedup_key("command", command.get("trigger_id")), {"body": command})
            await ack()

        @app.action(OPEN_FORM)
        async def open_form(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()  # only opens a modal (its trigger lasts 3 s), so there is nothing to keep
            self._spawn(self._open_form(body, action))

        @app.action(EVERYTHING)
        async def click(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            user = body.get("user")
            key = _dedup_key("action", user.get("id") if isinstance(user, dict) else None, action.get("action_ts"))
            await self._accept("click", key, {"body": body, "action": action})
            await ack()

        @app.view(FORM_CALLBACK)
        async def submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            await self._accept("submit", _dedup_key("view", view.get("id")), {"body": body})
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
            await self._dispatch(entry)

    async def _dispatch(self, entry: InboxEntry) -> None:
        body: dict[str, Any] = entry.payload["body"]
        event: dict[str, Any] = body.get("event") or {}
        if entry.kind == "message":
            await self._on_message(body, event, text=event.get("text") or "", thread=event.get("thread_ts"))
        elif entry.kind == "mention":
            text = (event.get("text") or "").replace(f"<@{entry.payload.get('bot_user_id')}>", " ").strip()
            await self._on_message(body, event, text=text, thread=event.get("thread_ts") or event.get("ts"))
        elif entry.kind == "home":
            await self.publish_home(event["user"])
        elif entry.kind == "command":
            await self._on_command(body, text=body.get("text", "").strip() or "help")
        elif entry.kind == "announce":
            await self._on_command(body, text=body.get("text", "").strip(), action="intent:announce")
        elif entry.kind == "click":
            await self._on_click(body, entry.payload["action"])
        elif entry.kind == "submit":
            await self._on_submit(body, body.get("view") or {})
        else:
            log.warning("inbox: unknown Slack item kind %r; dropped", entry.kind)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any], *, text: str, thread: str | None) -> None:
        user_id, channel_id = event["user"], event["channel"]
        dm = channel_id if event.get("channel_type") == "im" else None
        employee = await self.employee(user_id, dm=dm)
        if employee is None:
            await self._unknown_person(channel_id, user_id, thread)
            return
        parent = event.get("thread_ts")
        async with self.panel.working(dm, parent, _unescape(text)) as in_panel:
            replying = parent and parent != event.get("ts") and not in_panel
            under = await self._key_at(channel_id, parent) if replying else None
            turn = Turn(channel=self.name, user_id=user_id, conversation_id=channel_id, text=_unescape(text),
                        event_id=body.get("event_id"), thread_id=thread, employee=employee, thread_key=under)
            await self.bot.handle(turn, deduplicated=True)

    async def _on_command(self, command: dict[str, Any], *, text: str, action: str | None = None) -> None:
        user_id = command["user_id"]
        employee = await self.employee(user_id)
        if employee is None:
            await self._unknown_person(command["channel_id"], user_id, None)
            return
        dm = await self._dm(user_id, employee.email)
        turn = Turn(channel=self.name, user_id=user_id, conversation_id=dm, text=_unescape(text), action=action,
                    event_id=f"command:{command.get('trigger_id', '')}", employee=employee,
                    raw={"trigger_id": command.get("trigger_id")})
        await self.bot.handle(turn, deduplicated=True)

    async def _on_click(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        action_id = str(action.get("value") or action.get("action_id") or "")
        employee = await self.employee(user_id)
        if employee is None:
            return
        container = body.get("container") or {}
        message = body.get("message") or {}
        if container.get("type") == "message":
            conversation, thread = container["channel_id"], message.get("thread_ts")
        else:  # the App Home tab or a modal
            conversation, thread = await self._dm(user_id, employee.email), None
        if conversation == self.settings.slack_technician_channel and not employee.is_technician:
            await self._refuse_click(employee, conversation, user_id, action_id, thread)
            return
        if container.get("type") == "message" and not container.get("is_ephemeral") \
                and not action_id.startswith("approval:") and message.get("blocks"):
            # Show the choice and take the buttons away at once, so nobody answers twice.
            label = chosen_label(message["blocks"], action)
            await self.client.chat_update(channel=conversation, ts=container["message_ts"],
                                          text=message.get("text") or f"{label} (chosen)",
                                          blocks=decided_blocks(message["blocks"], label, user_id))
        turn = Turn(channel=self.name, user_id=user_id, conversation_id=conversation, action=action_id,
                    event_id=f"action:{user_id}:{action.get('action_ts', '')}", thread_id=thread, employee=employee,
                    raw={"trigger_id": body.get("trigger_id")})
        await self.bot.handle(turn, deduplicated=True)
        if container.get("type") == "view" and (body.get("view") or {}).get("type") == "home":
            await self.publish_home(user_id)

    async def _refuse_click(self, employee: Employee, channel_id: str, user_id: str, action_id: str,
                            thread: str | None) -> None:
        """A button in the technicians' channel clicked by someone who is not one: the card stays as it is,
        the refusal is shown to them only, and audited."""
        await self.bot.audit.record(employee.email, "slack.click", target=action_id[:200], outcome="refused",
                                    detail="requires the technician role")
        await self.client.chat_postEphemeral(
            channel=channel_id, user=user_id, thread_ts=thread,
            text="Sorry, only IT technicians can use the buttons in this channel, so nothing was changed.")

    async def _open_form(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        form = form_from_value(str(action.get("value", "")))
        shown_in = str((body.get("container") or {}).get("channel_id") or "")  # empty: answered in the DM
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal_view(form, shown_in))

    async def _on_submit(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = _form_metadata(view.get("private_metadata"))
        if meta is None:
            log.info("ignored a form submission whose metadata is not ours")
            return
        employee = await self.employee(user_id)
        if employee is None:
            return
        conversation = meta.get("conversation") or await self._dm(user_id, employee.email)
        turn = Turn(channel=self.name, user_id=user_id, conversation_id=conversation, action=str(meta["submit"]),
                    form=submitted_values(view), event_id=f"view:{view.get('id', '')}", employee=employee)
        await self.bot.handle(turn, deduplicated=True)

    async def _unknown_person(self, channel_id: str, user_id: str, thread: str | None) -> None:
        text = ("I can't see an email address on your Slack profile, so I can't tell who you are. "
                "Please contact the IT helpdesk by phone or email.")
        if channel_id.startswith("D"):
            await self.client.chat_postMessage(channel=channel_id, text=text, thread_ts=thread)
        else:
            await self.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text, thread_ts=thread)

    # App Home ----------------------------------------------------------------------

    async def publish_home(self, user_id: str) -> None:
        """Publish the App Home tab for ``user_id``: tickets, outages, quick actions, pending approvals."""
        employee = await self.employee(user_id)
        if employee is None:
            return
        home = await home_for(self.bot, employee)
        view = home_view(
            home.name,
            home.quick_actions,
            None if home.tickets is None else [(t.key, t.summary, t.status) for t in home.tickets],
            [(n.title, self.settings.local_time(n.created_at)) for n in home.outages],
            None if home.approvals is None else [(a.id or 0, a.summary, a.requester) for a in home.approvals],
        )
        await self.client.views_publish(user_id=user_id, view=view)

    # Sending -----------------------------------------------------------------------

    async def send(self, reply: Reply, origin: Turn | None) -> None:
        """Render ``reply`` as Block Kit and post it (or update, or open a modal, or post ephemerally).

        A Web API refusal (after the client's retries) becomes an ``IntegrationError``, which the
        router turns into a message that Slack is not answering.
        """
        self._keep_alive()  # a send from the scheduler (a fan-out) has no request that opened the session
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
            parent = await self._posted(reply.thread)
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
            posted = await self._posted(reply.replaces)
            if posted is not None:
                await self.client.chat_update(channel=posted.channel_id, ts=posted.ts, text=text, blocks=blocks)
                return
        if reply.private and (reply.secret or not channel_id.startswith("D")):
            # Ephemeral: shown to that one person and never kept in the conversation's history or exports.
            reader = origin.user_id if from_here and origin and origin.conversation_id == channel_id else None
            if reader is None and reply.secret and (reply.to or "").startswith("user:"):
                account = await self.bot.identity.account(str(reply.to).removeprefix("user:"))
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
            await self._remember(reply.key, str(response["channel"]), str(response["ts"]), thread)

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the message keyed ``reply.key`` is already in ``reply.to`` (``DeliveryCheck``).

        The ``slack_message`` row says so when the sender lived to record it; otherwise
        (it died between posting and recording) the conversation's newest messages are
        searched for the key in their metadata, and the row is written from what is found.
        """
        if not reply.key:
            return False
        self._keep_alive()
        posted = await self._posted(reply.key)
        if posted is not None:
            return True
        to = reply.to or ""
        if to.startswith("room:"):
            reply = reply.addressed(to.removeprefix("room:").partition(":")[2])
        channel_id = await self._target(reply)
        if channel_id is None:
            return False
        history = await self.client.conversations_history(channel=channel_id, limit=HISTORY_LOOKBACK,
                                                          include_all_metadata=True)
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and \
                    (metadata.get("event_payload") or {}).get("key") == reply.key:
                await self._remember(reply.key, channel_id, str(message["ts"]), message.get("thread_ts"))
                return True
        return False

    async def _target(self, reply: Reply) -> str | None:
        to = reply.to or ""
        if to == TECHNICIANS:
            if not self.settings.slack_technician_channel:
                log.error("a message for the technicians was dropped: HELPDESK_SLACK_TECHNICIAN_CHANNEL is not set")
                return None
            return self.settings.slack_technician_channel
        if to.startswith("user:"):
            email = to.removeprefix("user:")
            account = await self.bot.identity.account(email)
            if account is None or account.channel != self.name:
                log.warning("cannot reach %s on Slack: they have not talked to the bot here", email)
                return None
            if account.private_conversation:
                return account.private_conversation
            return await self._dm(account.user_id, email)
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

    async def _remember(self, key: str, channel_id: str, ts: str, thread_ts: str | None) -> None:
        def upsert(session: Session) -> None:
            row = session.exec(select(SlackMessage).where(SlackMessage.key == key)).first() or SlackMessage(key=key)
            row.channel_id, row.ts, row.thread_ts, row.posted_at = channel_id, ts, thread_ts, utcnow()
            session.add(row)

        await self.bot.db.run(upsert)

    async def _posted(self, key: str) -> SlackMessage | None:
        return await self.bot.db.run(
            lambda session: session.exec(select(SlackMessage).where(SlackMessage.key == key)).first()
        )

    async def _key_at(self, channel_id: str, thread_ts: str) -> str | None:
        """The key a message in the thread ``thread_ts`` replies under: the keyed bot message that started the
        thread, or else the newest keyed bot message inside it (a thread someone's @mention started)."""
        def lookup(session: Session) -> str | None:
            root = session.exec(select(SlackMessage.key).where(
                SlackMessage.channel_id == channel_id, SlackMessage.ts == thread_ts)).first()
            return root or session.exec(select(SlackMessage.key).where(
                SlackMessage.channel_id == channel_id, SlackMessage.thread_ts == thread_ts,
            ).order_by(col(SlackMessage.id).desc())).first()

        return await self.bot.db.run(lookup)

    # People ------------------------------------------------------------------------

    async def employee(self, user_id: str, *, dm: str | None = None) -> Employee | None:
        """The employee behind a Slack user (their verified email via ``users.info``), or None for a bot or guest.

        ``dm`` is their direct-message channel with the bot, when known.
        """
        known = await self.bot.identity.known(self.name, user_id)
        account = known[0] if known else None
        if account is None or _stale(account.updated_at):
            user = (await self.client.users_info(user=user_id))["user"]
            email = (user.get("profile") or {}).get("email")
            if user.get("is_bot") or user.get("deleted") or not email:
                return None
            employee = await self.bot.identity.resolve(
                self.name, user_id, email=email, display_name=_display_name(user), private_conversation=dm
            )
        elif dm and account.private_conversation != dm:
            employee = await self.bot.identity.resolve(self.name, user_id, email=account.email,
                                                       private_conversation=dm)
        else:
            assert known is not None
            employee = known[1]
        if not employee.is_technician and user_id in await self._technician_ids():
            employee = replace(employee, is_technician=True)
        return employee

    async def _account(self, user_id: str) -> ChatAccount | None:
        return await self.bot.db.run(
            lambda session: session.exec(
                select(ChatAccount).where(ChatAccount.channel == self.name, ChatAccount.user_id == user_id)
            ).first()
        )

    async def _dm(self, user_id: str, email: str) -> str:
        """The direct-message channel with ``user_id``, opened (and stored) the first time."""
        account = await self._account(user_id)
        if account is not None and account.private_conversation:
            return account.private_conversation
        opened = await self.client.conversations_open(users=user_id)
        dm = str(opened["channel"]["id"])
        await self.bot.identity.resolve(self.name, user_id, email=email, private_conversation=dm)
        return dm

    async def _technician_ids(self) -> frozenset[str]:
        handle = self.settings.slack_technician_group
        if not handle:
            return frozenset()
        try:
            return await self._group_ids(handle)
        except SlackApiError as exc:
            log.warning("cannot read the technician group %r: %s", handle, exc.response.get("error"))
            self._groups[handle] = (time.monotonic(), frozenset())
            return frozenset()

    async def _group_ids(self, handle: str) -> frozenset[str]:
        """The user ids of a user group, by handle (``it-techs``), ``@handle`` or id; cached for a few minutes."""
        cached = self._groups.get(handle)
        if cached is not None and time.monotonic() - cached[0] < GROUP_TTL:
            return cached[1]
        wanted = handle.lstrip("@")
        groups = (await self.client.usergroups_list())["usergroups"]
        group = next((g for g in groups if wanted in (g.get("handle"), g.get("id"))), None)
        if group is None:
            log.warning("no Slack user group %r", handle)
            ids: frozenset[str] = frozenset()
        else:
            ids = frozenset((await self.client.usergroups_users_list(usergroup=group["id"]))["users"])
        self._groups[handle] = (time.monotonic(), ids)
        return ids

    async def group_members(self, handle: str) -> list[str]:
        """The emails of the members of the Slack user group ``handle`` (for announcements to a group)."""
        emails = []
        for user_id in sorted(await self._group_ids(handle)):
            account = await self._account(user_id)
            if account is not None:
                emails.append(account.email)
                continue
            employee = await self.employee(user_id)
            if employee is not None:
                emails.append(employee.email)
        return sorted(set(emails))

    async def sync_members(self) -> int:
        """Record every human member of the workspace (``users.list``, paged); returns how many."""
        count, cursor = 0, None
        while True:
            page = await self.client.users_list(limit=200, cursor=cursor)
            for user in page["members"]:
                email = (user.get("profile") or {}).get("email")
                if user.get("is_bot") or user.get("deleted") or user.get("id") == "USLACKBOT" or not email:
                    continue
                await self.bot.identity.resolve(self.name, user["id"], email=email, display_name=_display_name(user))
                count += 1
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return count


def _payload(body: str, content_type: str) -> dict[str, Any] | None:
    """The body parsed the way Slack sends it (JSON events, or a form, with a JSON ``payload``), or None."""
    try:
        if content_type.startswith("application/json"):
            parsed = loads(body)
            return parsed if isinstance(parsed, dict) else None
        form = parse_qs(body, keep_blank_values=True)
        if "payload" in form:
            parsed = loads(form["payload"][0])
            return parsed if isinstance(parsed, dict) else None
        return {name: values[0] for name, values in form.items()} or None
    except (ValueError, UnicodeDecodeError):
        return None


_NEEDS_SENDER = ("message", "app_mention", "app_home_opened")


def _senseless(payload: dict[str, Any]) -> str | None:
    """Why a well-formed Slack request names nobody the bot could answer (a user id that is not one), or None."""
    try:
        if payload.get("type") == "event_callback":
            event = payload.get("event")
            if not isinstance(event, dict):
                return "the event is not an object"
            if event.get("type") in _NEEDS_SENDER and ("user" in event or not event.get("subtype")):
                clean_id(event.get("user"), "event.user")  # other events (user_change ...) carry objects here
                if event.get("type") != "app_home_opened":
                    clean_id(event.get("channel"), "event.channel")
            if not isinstance(event.get("text", ""), str | None):
                return "event.text is not a string"
        elif payload.get("type") in ("block_actions", "view_submission"):
            clean_id((payload.get("user") or {}).get("id") if isinstance(payload.get("user"), dict) else None,
                     "user.id")
        elif "command" in payload:
            clean_id(payload.get("user_id"), "user_id")
            clean_id(payload.get("channel_id"), "channel_id")
    except BadInput as exc:
        return str(exc)
    return None


def _form_metadata(raw: object) -> dict[str, str] | None:
    """The ``private_metadata`` the bot put on a modal (``{"submit", "conversation"}``), or None if it is not that."""
    try:
        meta = loads(raw) if isinstance(raw, str) and raw else None
        if not isinstance(meta, dict) or not isinstance(meta.get("submit"), str) or not meta["submit"]:
            return None
        conversation = meta.get("conversation")
        return {"submit": meta["submit"], "conversation": clean_id(conversation, "conversation") if conversation else ""}
    except BadInput:
        return None


def _dedup_key(kind: str, *parts: object) -> str:
    """``kind:part:...``, the inbox key of a command, click or submission; empty when Slack left a part out."""
    values = [str(part or "") for part in parts]
    return f"{kind}:{':'.join(values)}" if all(values) else ""


def _unescape(text: str) -> str:
    """Slack's escaped message text back to what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _display_name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    return str(profile.get("real_name") or user.get("real_name") or profile.get("display_name") or "")


def _stale(moment: datetime) -> bool:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utcnow() - moment > PROFILE_TTL
