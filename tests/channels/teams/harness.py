"""Drive the Teams channel as Teams would: activities and invokes posted to /api/messages over HTTP.

The bot runs in-process (anonymous auth, as tests allow only on 127.0.0.1). Every
activity's ``serviceUrl`` is a ``FakeConnector``, which records what the bot sent
back; the harness translates those calls into the console's line format::

    personal chat of EMAIL -> {"to": EMAIL, ...}; the technicians' channel -> {"to": "technicians", ...};
    a PUT of an earlier activity -> {..., "replaces": "CONVERSATION/ACTIVITY"};
    a post in a channel's reply chain -> {"to": CHANNEL, "thread": ROOT_ACTIVITY_ID, ...};
    a card that pages the channel -> {..., "mention": {"type": "channel" | "team", "id": ...}}.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import Bot
from bot.channels.teams.cards import ACTION_KEY, CARD_CONTENT_TYPE
from bot.channels.teams.channel import ROUTE, TeamsChannel
from bot.channels.teams.references import base_conversation
from bot.engine.skill import Skill
from bot.nlu import EmbeddedParser
from bot.surfaces.server import build_web_app
from tests.fakes.teams_connector import Call, FakeConnector, Member, serve_locally
from tests.support import Clock, make_settings

Line = dict[str, Any]

TENANT = "72f988bf-0000-4000-8000-000000000001"
TEAM = "19:team-it@thread.tacv2"
TECH_CHANNEL = "19:technicians@thread.tacv2"
GENERAL_CHANNEL = "19:general@thread.tacv2"
BOT_ID = "28:helpdesk-bot"


def plain(card_text: str) -> str:
    """A TextBlock's text as the reader sees it (Markdown escapes and doubled line breaks undone)."""
    return re.sub(r"\\([\\*_\[\]`~])", r"\1", card_text).replace("\n\n", "\n")


@dataclass
class TeamsUser:
    """A person on Teams: their Teams user id, Entra object id, email and personal chat with the bot."""

    email: str
    id: str
    aad: str
    personal: str

    def account(self) -> dict[str, Any]:
        """The ``from`` of their activities."""
        return {"id": self.id, "aadObjectId": self.aad, "name": self.email.split("@")[0].title()}


class TeamsHarness:
    """The Teams channel behind real HTTP, and a fake Bot Connector recording the bot's calls."""

    def __init__(self, bot: Bot, connector: FakeConnector) -> None:
        self.bot = bot
        self.connector = connector
        self.channel = TeamsChannel(bot)
        bot.add_channel(self.channel)
        self.users: dict[str, TeamsUser] = {}
        self._ids = itertools.count(1)
        self._shown: dict[str, tuple[str, str]] = {}
        self._seen = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""
        self.last_ack_seconds = 0.0

    async def start(self) -> TeamsHarness:
        """Serve the bot's web app (with /api/messages) on a free port of 127.0.0.1."""
        app = build_web_app(self.bot)
        self.channel.mount(app)
        self._runner, port = await serve_locally(app)
        self.url = f"http://127.0.0.1:{port}{ROUTE}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Stop serving."""
        await self.channel.drain()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # People and conversations ----------------------------------------------

    def user(self, email: str, *, technician_channel: bool = False) -> TeamsUser:
        """The Teams user for ``email`` (made up on first use and put on the rosters)."""
        email = email.lower()
        if email not in self.users:
            name = email.split("@")[0]
            user = TeamsUser(email, f"29:{name}", f"aad-{name}", f"a:personal-{name}")
            self.users[email] = user
            member = Member(user.id, user.aad, email)
            self.connector.add_member(user.personal, member)
            self.connector.add_member(GENERAL_CHANNEL, member)
            if technician_channel or email in self.bot.settings.technicians:
                self.connector.add_member(TECH_CHANNEL, member)
        return self.users[email]

    def activity(self, user: str, conversation: str, kind: str, **fields: Any) -> dict[str, Any]:
        """An activity from ``user`` in ``conversation`` as the Bot Connector posts it."""
        person = self.user(user)
        activity_id = f"act-{next(self._ids)}"
        conversation_id = conversation
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if kind == "channel":
            channel_data.update(team={"id": TEAM}, channel={"id": base_conversation(conversation)})
            if ";messageid=" not in conversation:
                conversation_id = f"{conversation};messageid={activity_id}"
        body = {
            "type": "message",
            "id": activity_id,
            "timestamp": "2026-11-23T09:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": person.account(),
            "recipient": {"id": BOT_ID, "name": "Helpdesk"},
            "conversation": {"id": conversation_id, "conversationType": kind, "tenantId": TENANT},
            "channelData": channel_data,
            "locale": "en-US",
        }
        body.update(fields)
        return body

    async def post(self, activity: dict[str, Any] | str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST an activity (or raw text) to /api/messages; the status and JSON body (or None).

        Returns once the bot has finished with it (background work included); ``last_ack_seconds``
        is how long the HTTP answer took.
        """
        assert self._session is not None
        kwargs: dict[str, Any] = {"data": activity, "headers": {"Content-Type": "application/json", **(headers or {})}}
        if not isinstance(activity, str):
            kwargs = {"json": activity, "headers": headers or {}}
        started = time.perf_counter()
        async with self._session.post(self.url, **kwargs) as response:
            body = await response.json() if response.content_type == "application/json" else None
            status = response.status
        self.last_ack_seconds = time.perf_counter() - started
        await self.channel.drain()
        return status, body

    # The contract's Harness ------------------------------------------------

    async def say(self, user: str, text: str) -> list[Line]:
        """``user`` writes ``text`` in their personal chat with the bot."""
        person = self.user(user)
        await self.send(self.activity(user, person.personal, "personal", text=text))
        return self.new_lines()

    async def mention(self, user: str, text: str, channel: str = GENERAL_CHANNEL) -> list[Line]:
        """``user`` @mentions the bot in a new post in ``channel``."""
        mention = {"type": "mention", "text": "<at>Helpdesk</at>", "mentioned": {"id": BOT_ID, "name": "Helpdesk"}}
        await self.send(self.activity(user, channel, "channel", text=f"<at>Helpdesk</at> {text}", entities=[mention]))
        return self.new_lines()

    async def reply_in_thread(self, user: str, root: str, text: str, channel: str = GENERAL_CHANNEL) -> list[Line]:
        """``user`` answers in the reply chain of the channel post ``root``, @mentioning the bot."""
        mention = {"type": "mention", "text": "<at>Helpdesk</at>", "mentioned": {"id": BOT_ID, "name": "Helpdesk"}}
        await self.send(self.activity(user, f"{channel};messageid={root}", "channel", text=f"<at>Helpdesk</at> {text}",
                                      entities=[mention], replyToId=root))
        return self.new_lines()

    async def send(self, activity: dict[str, Any]) -> None:
        """Post an activity that must be accepted."""
        status, body = await self.post(activity)
        assert status in (200, 202), (status, body)

    async def click(self, user: str, button_id: str) -> list[Line]:
        """``user`` clicks ``button_id`` on the card where it was shown (an ``adaptiveCard/action`` invoke)."""
        status, _ = await self.invoke(user, button_id, {ACTION_KEY: button_id})
        assert status == 200
        return self.new_lines()

    async def submit(self, user: str, form_id: str, values: dict[str, Any]) -> list[Line]:
        """``user`` fills in the form ``form_id`` and submits it."""
        status, _ = await self.invoke(user, form_id, {ACTION_KEY: form_id, "helpdesk_form": True, **values})
        assert status == 200
        return self.new_lines()

    async def invoke(self, user: str, verb: str, data: dict[str, Any]) -> tuple[int, Any]:
        """Post the invoke Teams sends for an ``Action.Execute`` on the card that showed ``verb``."""
        conversation, card_id = self._shown[verb]
        kind = "channel" if conversation.startswith("19:") else "personal"
        if kind == "channel" and ";messageid=" not in conversation:
            conversation = f"{conversation};messageid={card_id}"
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
        activity = self.activity(user, conversation, kind, type="invoke", name="adaptiveCard/action", value=value,
                                 replyToId=card_id)
        return await self.post(activity)

    # Reading back ----------------------------------------------------------

    def new_lines(self) -> list[Line]:
        """The bot's sends and updates since the last call, as lines."""
        posts = self.connector.posts()
        fresh, self._seen = posts[self._seen:], len(posts)
        return [line for line in (self._line(call) for call in fresh) if line is not None]

    def _line(self, call: Call) -> Line | None:
        if call.path == "/v3/conversations":
            return None
        body = call.body or {}
        [attachment] = body["attachments"]
        assert attachment["contentType"] == CARD_CONTENT_TYPE
        card = attachment["content"]
        texts = [plain(block["text"]) for block in card["body"]
                 if block["type"] == "TextBlock" and block.get("weight") is None]
        for block in card["body"]:
            if block["type"] == "FactSet":
                texts.extend(f"{fact['title']}: {plain(fact['value'])}" for fact in block["facts"])
        buttons = [{"id": action["data"][ACTION_KEY], "label": action["title"]}
                   for action in card.get("actions", []) if not action["data"].get("helpdesk_form")]
        conversation = call.conversation_id
        base, _, root = conversation.partition(";messageid=")
        line: Line = {"to": self._to(base), "text": "\n".join(t for t in texts if t), "buttons": buttons,
                      "private": conversation.startswith("a:")}
        if root:
            line["thread"] = root
        for entity in card.get("msteams", {}).get("entities", []):
            line["mention"] = entity["mentioned"]
        forms = [action for action in card.get("actions", []) if action["data"].get("helpdesk_form")]
        if forms:
            line["form"] = {"submit": forms[0]["data"][ACTION_KEY],
                            "inputs": [block for block in card["body"] if block["type"].startswith("Input.")]}
        card_id = call.activity_id if call.method == "PUT" else call.response_id
        assert card_id is not None
        if call.method == "PUT":
            line["replaces"] = f"{conversation}/{card_id}"
        for action in card.get("actions", []):
            self._shown[action["data"][ACTION_KEY]] = (conversation, card_id)
        return line

    def _to(self, conversation: str) -> str:
        if base_conversation(conversation) == TECH_CHANNEL:
            return "technicians"
        for user in self.users.values():
            if conversation in (user.personal, f"a:personal-{user.aad}"):
                return user.email
        return conversation


def teams_settings() -> dict[str, Any]:
    """The settings overrides a Teams test bot needs (anonymous auth on loopback, fast retries)."""
    return {"teams_allow_anonymous": True, "teams_technician_channel": TECH_CHANNEL, "teams_tenant_id": TENANT,
            "teams_retry_seconds": 0.01, "host": "127.0.0.1"}


@contextlib.asynccontextmanager
async def running_teams(
    database_url: str, parser: EmbeddedParser, clock: Clock, skills: list[Skill] | None = None,
    bot_class: type[Bot] = Bot,
) -> AsyncIterator[TeamsHarness]:
    """A started Teams-only bot behind /api/messages and a fake connector; all stopped afterwards."""
    bot = bot_class(make_settings(database_url, **teams_settings()), nlu=parser, clock=clock, skills=skills)
    bot.start()
    connector = await FakeConnector().start()
    harness = await TeamsHarness(bot, connector).start()
    try:
        yield harness
    finally:
        await harness.stop()
        await connector.stop()
        bot.close()
