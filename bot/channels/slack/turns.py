"""What an acked Slack item becomes: a turn for the engine (a message, command, click or form), or the App Home."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import (
    chosen_label,
    decided_blocks,
    form_from_value,
    home_view,
    modal_view,
    submitted_values,
)
from bot.channels.slack.panel import AgentPanel
from bot.channels.slack.payloads import form_metadata, unescape
from bot.channels.slack.people import SlackPeople, tell_unknown
from bot.channels.slack.posted import PostedMessages
from bot.core.action import Decide, StartIntent, decode_action, encode_action
from bot.core.messages import Employee, Turn
from bot.engine.home import home_for
from bot.store import InboxEntry

if TYPE_CHECKING:
    from bot.engine.host import ChannelHost

__all__ = ["SlackTurns"]

log = logging.getLogger(__name__)


class SlackTurns:
    """Turns an inbox item the Slack listeners wrote into a turn for the engine, and publishes the App Home."""

    name = "slack"

    def __init__(self, bot: ChannelHost, client: AsyncWebClient, people: SlackPeople, posted: PostedMessages,
                 panel: AgentPanel) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.client = client
        self.people = people
        self.posted = posted
        self.panel = panel

    async def dispatch(self, entry: InboxEntry) -> None:
        """Handle one inbox item by its kind; an unknown kind is logged and dropped."""
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
            announce = encode_action(StartIntent("announce"))
            await self._on_command(body, text=body.get("text", "").strip(), action=announce)
        elif entry.kind == "click":
            await self._on_click(body, entry.payload["action"])
        elif entry.kind == "submit":
            await self._on_submit(body, body.get("view") or {})
        else:
            log.warning("inbox: unknown Slack item kind %r; dropped", entry.kind)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any], *, text: str, thread: str | None) -> None:
        user_id, channel_id = event["user"], event["channel"]
        dm = channel_id if event.get("channel_type") == "im" else None
        employee = await self.people.employee(user_id, dm=dm)
        if employee is None:
            await tell_unknown(self.client, channel_id, user_id, thread)
            return
        parent = event.get("thread_ts")
        async with self.panel.working(dm, parent, unescape(text)) as in_panel:
            replying = parent and parent != event.get("ts") and not in_panel
            under = await self.posted.key_at(channel_id, str(parent)) if replying else None
            turn = Turn(channel=self.name, user_id=user_id, conversation_id=channel_id, text=unescape(text),
                        event_id=body.get("event_id"), thread_id=thread, employee=employee, thread_key=under)
            await self.bot.handle(turn, deduplicated=True)

    async def _on_command(self, command: dict[str, Any], *, text: str, action: str | None = None) -> None:
        user_id = command["user_id"]
        employee = await self.people.employee(user_id)
        if employee is None:
            await tell_unknown(self.client, command["channel_id"], user_id, None)
            return
        dm = await self.people.dm(user_id, employee.email)
        turn = Turn(channel=self.name, user_id=user_id, conversation_id=dm, text=unescape(text), action=action,
                    event_id=f"command:{command.get('trigger_id', '')}", employee=employee,
                    raw={"trigger_id": command.get("trigger_id")})
        await self.bot.handle(turn, deduplicated=True)

    async def _on_click(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        action_id = str(action.get("value") or action.get("action_id") or "")
        employee = await self.people.employee(user_id)
        if employee is None:
            return
        container = body.get("container") or {}
        message = body.get("message") or {}
        if container.get("type") == "message":
            conversation, thread = container["channel_id"], message.get("thread_ts")
        else:  # the App Home tab or a modal
            conversation, thread = await self.people.dm(user_id, employee.email), None
        if conversation == self.settings.slack_technician_channel and not employee.is_technician:
            await self._refuse_click(employee, conversation, user_id, action_id, thread)
            return
        if container.get("type") == "message" and not container.get("is_ephemeral") \
                and not isinstance(decode_action(action_id), Decide) and message.get("blocks"):
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

    async def open_form(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Open the form a button carries as a modal (its trigger lasts 3 seconds)."""
        form = form_from_value(str(action.get("value", "")))
        shown_in = str((body.get("container") or {}).get("channel_id") or "")  # empty: answered in the DM
        await self.client.views_open(trigger_id=body["trigger_id"], view=modal_view(form, shown_in))

    async def _on_submit(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = form_metadata(view.get("private_metadata"))
        if meta is None:
            log.info("ignored a form submission whose metadata is not ours")
            return
        employee = await self.people.employee(user_id)
        if employee is None:
            return
        conversation = meta.get("conversation") or await self.people.dm(user_id, employee.email)
        turn = Turn(channel=self.name, user_id=user_id, conversation_id=conversation, action=str(meta["submit"]),
                    form=submitted_values(view), event_id=f"view:{view.get('id', '')}", employee=employee)
        await self.bot.handle(turn, deduplicated=True)

    async def publish_home(self, user_id: str) -> None:
        """Publish the App Home tab for ``user_id``: tickets, outages, quick actions, pending approvals."""
        employee = await self.people.employee(user_id)
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
