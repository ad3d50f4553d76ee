"""Drive the Slack channel as Slack would: signed requests to ``/slack/events``, and the fake's calls read back.

``SlackHarness`` runs a real bot (``SlackChannel`` on the bot's aiohttp server)
against ``tests.fakes.slack.FakeSlack``. Every action posts what Slack posts
(an Events API callback, a slash command form, an interactive ``payload``),
signed with the signing secret, then waits until the bot has finished the
work it started after the ack, and returns the Web API calls it caused as
lines in the console format (see ``tests/contracts/channel.py``).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from bot.app import Bot
from bot.channels.slack.blocks import OPEN_FORM, form_from_value
from bot.channels.slack.channel import SlackChannel
from bot.engine.skill import Skill
from bot.nlu import Parser
from bot.store import SlackMessage
from bot.surfaces.server import build_web_app
from tests.fakes.slack import BOT_TOKEN, BOT_USER, TEAM, FakeSlack, SlackUser
from tests.support import make_settings

Line = dict[str, Any]

SIGNING_SECRET = "test-signing-secret"
TECH_CHANNEL = "C0TECHS001"
PEOPLE = [
    SlackUser("U0ANN00001", "ann@city.example", "Ann Archer"),
    SlackUser("U0BOB00001", "bob@city.example", "Bob Baker"),
    SlackUser("U0TOM00001", "tom@city.example", "Tom Tech"),
    SlackUser("U0TIA00001", "tia@city.example", "Tia Tech"),
    SlackUser("U0RAY00001", "ray@city.example", "Ray Group-Tech"),
    SlackUser("U0OLD00001", "old@city.example", "Gone Person", deleted=True),
    SlackUser("U0BOT00002", "robot@city.example", "Some Bot", is_bot=True),
]
GROUPS = {"it-techs": ["U0RAY00001"], "facilities": ["U0ANN00001", "U0BOB00001"]}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_text(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    """The text a person reads in Block Kit blocks: sections, their fields as ``Label: value``, context lines."""
    lines: list[str] = []
    for block in blocks:
        if block.get("type") == "section":
            if block.get("text"):
                lines.append(block["text"]["text"])
            for item in block.get("fields", []):
                label, _, value = item["text"].partition("\n")
                lines.append(f"{label.strip('*')}: {value}")
        elif block.get("type") == "context":
            lines.extend(e.get("text", "") for e in block.get("elements", []))
        elif block.get("type") == "header":
            lines.append(block["text"]["text"])
    return _unescape("\n".join(lines) if lines else fallback)


def blocks_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buttons in the blocks' actions, as ``{"id", "label"}`` (the opener of a form excluded), and the two
    sides of feedback buttons."""
    found = []
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") in ("actions", "context_actions") else []:
            if element.get("type") == "button" and element["action_id"] != OPEN_FORM:
                found.append({"id": element.get("value") or element["action_id"], "label": element["text"]["text"]})
            elif element.get("type") == "feedback_buttons":
                found += [{"id": side["value"], "label": side["text"]["text"]}
                          for side in (element["positive_button"], element["negative_button"])]
    return found


def clicked_action(blocks: list[dict[str, Any]], button_id: str) -> dict[str, Any]:
    """The ``actions[0]`` Slack sends when ``button_id`` is clicked: the button, or the feedback buttons with the
    chosen side's value (Slack sends no text for those)."""
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") in ("actions", "context_actions") else []:
            if element.get("type") == "feedback_buttons":
                sides = (element["positive_button"], element["negative_button"])
                if any(side["value"] == button_id for side in sides):
                    return {"type": "feedback_buttons", "action_id": element["action_id"], "value": button_id}
            elif button_id in (element.get("value"), element.get("action_id")):
                return dict(element)
    raise AssertionError(f"button {button_id!r} is not in these blocks")


class SlackHarness:
    """A bot on Slack (HTTP mode) against the fake; acts as Slack users."""

    def __init__(self, bot: Bot, channel: SlackChannel, fake: FakeSlack) -> None:
        self.bot = bot
        self.channel = channel
        self.fake = fake
        self.url = ""
        self.verifier = SignatureVerifier(SIGNING_SECRET)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        # button -> where it was shown: channel, ts, blocks, ephemeral, and the thread it is in
        self._shown: dict[str, tuple[str, str, list[dict[str, Any]], bool, str | None]] = {}
        self._threads: dict[tuple[str, str], str] = {}  # (channel, ts) -> thread_ts of a message posted in a thread
        self._read = 0
        self.owns_fake = True

    @classmethod
    async def start(cls, database_url: str, parser: Parser, *, skills: list[Skill] | None = None,
                    fake: FakeSlack | None = None, **overrides: Any) -> SlackHarness:
        """Start the fake (unless given: replicas share one), a bot with the Slack channel and its HTTP server."""
        owns_fake = fake is None
        if fake is None:
            fake = FakeSlack(PEOPLE, groups=GROUPS)
            await fake.start()
        settings = make_settings(
            database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.api_url, slack_technician_channel=TECH_CHANNEL,
            **overrides,
        )
        bot = Bot(settings, nlu=parser, skills=skills)
        bot.start()
        channel = SlackChannel(bot)
        bot.add_channel(channel)
        harness = cls(bot, channel, fake)
        harness.owns_fake = owns_fake
        app = build_web_app(bot)
        channel.attach(app)
        harness._runner = web.AppRunner(app)
        await harness._runner.setup()
        site = web.TCPSite(harness._runner, "127.0.0.1", 0)
        await site.start()
        harness.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events"  # type: ignore
        harness._session = aiohttp.ClientSession()
        return harness

    async def stop(self) -> None:
        """Stop everything started."""
        await self.channel.close()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.owns_fake:
            await self.fake.stop()
        self.bot.close()

    async def meet_everyone(self) -> list[str]:
        """The bot meets every person of the workspace the way it meets anyone who writes (``users.info``), so
        ``user_address(email)`` reaches them; returns the emails of the people (bots and leavers are not)."""
        met = [await self.channel.employee(user_id) for user_id in self.fake.users]
        return [employee.email for employee in met if employee is not None]

    # Posting as Slack ------------------------------------------------------------------

    def signed_headers(self, body: str, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        """The headers Slack sends with ``body``: its timestamp and the v0 HMAC signature."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        verifier = SignatureVerifier(secret) if secret else self.verifier
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": verifier.generate_signature(
            timestamp=stamp, body=body)}

    async def post(self, body: str, content_type: str, *, headers: dict[str, str] | None = None,
                   signed: bool = True) -> tuple[int, str]:
        """POST ``body`` to /slack/events; wait for the after-ack work; returns (status, response text)."""
        assert self._session is not None
        sent = {"Content-Type": content_type, **(self.signed_headers(body) if signed else {}), **(headers or {})}
        async with self._session.post(self.url, data=body.encode(), headers=sent) as response:
            status, text = response.status, await response.text()
        await self.channel.drain()
        return status, text

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        """An Events API ``event_callback`` around ``event``."""
        return json.dumps({
            "token": "legacy-token-unused", "team_id": TEAM, "api_app_id": "A0HELPDESK", "type": "event_callback",
            "event": event, "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        })

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> list[Line]:
        """Deliver one event; the lines it caused."""
        status, _ = await self.post(self.event_body(event, event_id), "application/json", headers=headers)
        assert status == 200, status
        return self.new_lines()

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    async def say(self, user: str, text: str, thread: str | None = None) -> list[Line]:
        """``user`` writes ``text`` in their DM with the bot (in the thread of the message at ``thread``)."""
        person = self.fake.user_by_email(user)
        ts = self._ts()
        event = {"type": "message", "channel_type": "im", "channel": person.dm, "user": person.id,
                 "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                 "ts": ts, "event_ts": ts}
        if thread:
            event["thread_ts"] = thread
        return await self.event(event)

    async def open_panel(self, user: str) -> tuple[str, list[Line]]:
        """``user`` opens the bot in Slack's agent panel: ``assistant_thread_started`` for a new thread in their
        DM. Returns the thread's ts and the lines it caused."""
        person = self.fake.user_by_email(user)
        ts = self._ts()
        event = {"type": "assistant_thread_started", "event_ts": ts, "assistant_thread": {
            "user_id": person.id, "channel_id": person.dm, "thread_ts": ts,
            "context": {"channel_id": "C0GENERAL1", "team_id": TEAM, "enterprise_id": None}}}
        return ts, await self.event(event)

    async def mention(self, user: str, channel: str, text: str, thread: str | None = None) -> list[Line]:
        """``user`` mentions the bot in ``channel``."""
        person = self.fake.user_by_email(user)
        ts = self._ts()
        event = {"type": "app_mention", "channel": channel, "user": person.id, "text": f"<@{BOT_USER}> {text}",
                 "ts": ts, "event_ts": ts}
        if thread:
            event["thread_ts"] = thread
        return await self.event(event)

    async def command(self, user: str, command: str, text: str = "") -> list[Line]:
        """``user`` types a slash command (in a shared channel)."""
        person = self.fake.user_by_email(user)
        body = urlencode({"token": "unused", "team_id": TEAM, "channel_id": "C0GENERAL1", "user_id": person.id,
                          "command": command, "text": text, "trigger_id": f"trig.{next(self._ids)}",
                          "response_url": "http://127.0.0.1:9/hooks", "api_app_id": "A0HELPDESK"})
        status, _ = await self.post(body, "application/x-www-form-urlencoded")
        assert status == 200, status
        return self.new_lines()

    async def interact(self, payload: dict[str, Any]) -> list[Line]:
        """Post an interactive ``payload`` (a click, a modal submission)."""
        body = urlencode({"payload": json.dumps(payload)})
        status, _ = await self.post(body, "application/x-www-form-urlencoded")
        assert status == 200, status
        return self.new_lines()

    async def click(self, user: str, button_id: str) -> list[Line]:
        """``user`` clicks ``button_id`` on the message where it was shown."""
        person = self.fake.user_by_email(user)
        where = self._shown.get(button_id)
        assert where is not None, f"button {button_id!r} was never shown"
        channel, ts, blocks, ephemeral, thread = where
        element = clicked_action(blocks, button_id)
        container: dict[str, Any]
        if channel == "home":
            container = {"type": "view", "view_id": "VHOME00001"}
        else:
            container = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral}
            if thread:
                container["thread_ts"] = thread
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": TEAM}, "api_app_id": "A0HELPDESK",
            "user": {"id": person.id, "team_id": TEAM}, "container": container,
            "trigger_id": f"trig.{next(self._ids)}", "response_url": "http://127.0.0.1:9/hooks",
            "actions": [{**element, "block_id": "b1", "action_ts": self._ts()}],
        }
        if channel == "home":
            payload["view"] = {"id": "VHOME00001", "type": "home", "blocks": blocks}
        else:
            payload["channel"] = {"id": channel}
            if not ephemeral:
                payload["message"] = {"type": "message", "ts": ts, "text": "", "blocks": blocks, "user": BOT_USER}
                if thread:
                    payload["message"]["thread_ts"] = thread
        return await self.interact(payload)

    async def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> list[Line]:
        """``user`` submits the modal ``view`` (as opened) with ``values``: {block_id: element state}."""
        person = self.fake.user_by_email(user)
        state = {name: {"value": value} for name, value in values.items()}
        return await self.interact({
            "type": "view_submission", "team": {"id": TEAM}, "user": {"id": person.id}, "api_app_id": "A0HELPDESK",
            "trigger_id": f"trig.{next(self._ids)}",
            "view": {**view, "id": f"V{next(self._ids):09d}", "hash": "h1", "state": {"values": state}},
        })

    # Reading back ---------------------------------------------------------------------

    def new_lines(self) -> list[Line]:
        """The Web API calls since the last read, as console-format lines (lookups and the like left out)."""
        calls = self.fake.calls[self._read :]
        self._read = len(self.fake.calls)
        lines = []
        for call in calls:
            if call.status != 200 or call.error:
                continue
            line = self._line(call.method, call.args, call.response)
            if line is not None:
                lines.append(line)
        return lines

    def _who(self, channel: str) -> str:
        person = self.fake.user_by_dm(channel)
        if person is not None:
            return person.email
        return "technicians" if channel == TECH_CHANNEL else channel

    def _line(self, method: str, args: dict[str, Any], response: dict[str, Any]) -> Line | None:
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            channel = str(args["channel"])
            to = self._who(channel)
            line: Line = {"to": to, "text": blocks_text(blocks, str(args.get("text", ""))),
                          "buttons": blocks_buttons(blocks), "private": to.endswith("@city.example") and
                          channel.startswith("D"), "channel": channel}
            if method == "chat.postEphemeral":
                line["to"] = next(u.email for u in self.fake.users.values() if u.id == args["user"])
                line["private"] = True
            ts = str(args.get("ts") or response.get("ts") or response.get("message_ts"))
            thread = str(args["thread_ts"]) if args.get("thread_ts") else self._threads.get((channel, ts))
            if thread:
                line["thread"] = thread
                self._threads[(channel, ts)] = thread
            if method == "chat.update":
                line["replaces"] = self._key_of(channel, str(args["ts"])) or str(args["ts"])
            opener = [e for b in blocks if b.get("type") == "actions" for e in b["elements"]
                      if e["action_id"] == OPEN_FORM]
            if opener:
                line["form"] = form_from_value(opener[0]["value"])
                self._shown[OPEN_FORM] = (channel, str(response.get("ts", "")), blocks, False, thread)
            for button in line["buttons"]:
                self._shown[button["id"]] = (channel, ts, blocks, method == "chat.postEphemeral", thread)
            return line
        if method == "views.open":
            view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
            return {"to": "modal", "text": view["title"]["text"], "buttons": [], "private": True, "view": view}
        if method == "views.publish":
            view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
            for button in blocks_buttons(view["blocks"]):
                self._shown[button["id"]] = ("home", "", view["blocks"], False, None)
            return None
        return None

    def _key_of(self, channel: str, ts: str) -> str | None:
        row = self.bot.db.call(lambda s: s.exec(
            select(SlackMessage).where(SlackMessage.channel_id == channel, SlackMessage.ts == ts)).first())
        return row.key if row else None
