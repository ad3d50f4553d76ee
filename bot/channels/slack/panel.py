"""Slack's agent panel (the *Agents & AI Apps* feature, manifest ``assistant_view``) for the Slack channel.

When someone opens the panel, Slack starts a thread in their DM with the bot
and sends ``assistant_thread_started``; bolt's ``AsyncAssistant`` middleware
hands it to ``AgentPanel.started``, which greets them and sets suggested
prompts drawn from the skills they may use (``bot/engine/prompts.py``). The greeting
is a keyed message (``panel:<channel>:<thread_ts>``), so the ``slack_message``
table remembers which threads are panel threads, across restarts and replicas.

Messages in a panel thread come in as ordinary DM messages and go through the
same turn as a DM, buttons and approvals included; around the turn,
``AgentPanel.working`` shows a status in the panel and titles the thread from
its first request. A panel thread is one conversation, so a message there is
a new request, never a reply under an earlier keyed answer.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncAssistant
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import AsyncSetSuggestedPrompts
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.people import SlackPeople, tell_unknown
from bot.channels.slack.posted import PostedMessages
from bot.core.messages import Employee, Reply, Turn
from bot.engine.skill import Prompt

__all__ = ["PANEL_PROMPTS", "STATUS", "AgentPanel", "Deliver", "Spawn", "thread_title"]

Deliver = Callable[[Reply, Turn | None], Awaitable[object]]
"""Sends a reply the way the engine does (``Bot.deliver``)."""
Spawn = Callable[[Coroutine[Any, Any, None]], None]
"""Runs work after Slack's ack (``SlackChannel.spawn``)."""

log = logging.getLogger(__name__)

PANEL_PROMPTS = 4  # Slack shows at most four suggested prompts
STATUS = "is working on your request…"
TITLE_CHARS = 60
REMEMBERED_TITLES = 10_000  # threads this process has titled (a restart may title an old thread once more)


def thread_title(text: str) -> str:
    """A panel thread's title from its first request: the first line, cut at a word near ``TITLE_CHARS``."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    if len(line) <= TITLE_CHARS:
        return line or "IT help"
    cut = line.rfind(" ", 0, TITLE_CHARS)
    return line[: cut if cut > TITLE_CHARS // 2 else TITLE_CHARS].rstrip(" ,.;:") + "…"


class AgentPanel:
    """The Slack channel's agent panel: greeting and prompts at a thread's start, status and title per turn."""

    def __init__(self, client: AsyncWebClient, people: SlackPeople, posted: PostedMessages, *,
                 spawn: Spawn, deliver: Deliver, prompts: Callable[[Employee, int], list[Prompt]]) -> None:
        self.client = client
        self.people = people
        self.posted = posted
        self.spawn = spawn
        self.deliver = deliver
        self.prompts = prompts
        self._titled: OrderedDict[tuple[str, str], None] = OrderedDict()

    def middleware(self) -> AsyncAssistant:
        """Bolt's ``AsyncAssistant`` with this panel's listeners, for ``AsyncApp.assistant``."""
        assistant = AsyncAssistant(logger=logging.getLogger("slack_bolt"))

        @assistant.thread_started
        async def started(payload: dict[str, Any], set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
            thread = payload["assistant_thread"]
            self.spawn(self.greet(str(thread["user_id"]), str(thread["channel_id"]),
                                  str(thread["thread_ts"]), set_suggested_prompts))

        @assistant.thread_context_changed
        async def context_changed() -> None:
            """The channel the person is looking at does not change what the helpdesk answers."""

        return assistant

    @staticmethod
    def key(channel_id: str, thread_ts: str) -> str:
        """The key of the greeting that marks a panel thread."""
        return f"panel:{channel_id}:{thread_ts}"

    async def greet(self, user_id: str, channel_id: str, thread_ts: str,
                    set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        """Say hello in a new panel thread and offer the prompts this person may use."""
        employee = await self.people.employee(user_id, dm=channel_id)
        if employee is None:
            await tell_unknown(self.client, channel_id, user_id, thread_ts)
            return
        origin = Turn(channel=self.people.name, user_id=user_id, conversation_id=channel_id, thread_id=thread_ts,
                      employee=employee)
        greeting = Reply(f"Hi {employee.name}, this is the IT helpdesk. Tell me what's wrong in your own words, "
                         "or pick one of these.", key=self.key(channel_id, thread_ts))
        await self.deliver(greeting, origin)
        prompts = self.prompts(employee, PANEL_PROMPTS)
        if prompts:
            await set_suggested_prompts([{"title": p.title, "message": p.message} for p in prompts],
                                        title="Things I can help with")

    async def is_thread(self, channel_id: str, thread_ts: str) -> bool:
        """True when ``thread_ts`` in ``channel_id`` is a panel thread (its greeting was recorded)."""
        return await self.posted.find(self.key(channel_id, thread_ts)) is not None

    @asynccontextmanager
    async def working(self, dm: str | None, thread_ts: str | None, text: str) -> AsyncIterator[bool]:
        """Around one turn from a DM message: in a panel thread, a status while it runs and a title from the
        first request. Yields whether it is a panel thread."""
        if dm is None or thread_ts is None or not await self.is_thread(dm, thread_ts):
            yield False
            return
        client = self.client
        status = AsyncSetStatus(client, dm, thread_ts)
        await self._quietly(status(STATUS))
        if (dm, thread_ts) not in self._titled:
            self._titled[(dm, thread_ts)] = None
            while len(self._titled) > REMEMBERED_TITLES:
                self._titled.popitem(last=False)
            await self._quietly(AsyncSetTitle(client, dm, thread_ts)(thread_title(text)))
        try:
            yield True
        finally:
            await self._quietly(status(""))  # a reply clears it too; a turn that answers elsewhere would not

    @staticmethod
    async def _quietly(call: Any) -> None:
        """The status and the title are a courtesy: a refusal is logged and the turn goes on."""
        try:
            await call
        except SlackApiError as exc:
            log.info("Slack refused an agent panel update: %s", exc.response.get("error"))
