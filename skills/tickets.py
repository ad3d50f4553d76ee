"""Open a ticket and check on tickets, in the built-in queue."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.context import Context
from bot.errors import PermissionDenied
from bot.integrations.tickets import TicketView
from bot.messages import Field, Turn
from bot.skill import Intent, Skill, Slot

__all__ = ["Tickets"]

_FILLER = frozenset(
    "a an the i im i'm need want would like to please can could you help me open create submit log file "
    "make start new raise put in ticket tickets request issue problem helpdesk it support for with my hi "
    "hello hey just".split()
)
_URGENT = re.compile(r"\b(urgent|asap|emergency|right away|immediately|can'?t work|cannot work|down for everyone)\b",
                     re.IGNORECASE)


def _has_substance(text: str) -> bool:
    """True when the message says what the problem is, not only 'open a ticket'."""
    words = re.findall(r"[a-z']+", text.lower())
    return len([w for w in words if w not in _FILLER]) >= 2


def _fields(ticket: TicketView) -> tuple[Field, ...]:
    fields = [Field("Status", ticket.status), Field("Assignee", ticket.assignee or "not assigned yet")]
    if ticket.last_comment:
        fields.append(Field("Last comment", ticket.last_comment[:300]))
    return tuple(fields)


class Tickets(Skill):
    """File tickets with a preview, and report their status."""

    name = "tickets"
    summary = "Open a ticket for a problem or a request, and check on your tickets"
    examples = ("my monitor won't turn on", "any update on HELP-12?")
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("open_ticket", slots=(Slot("system", "", entity="system", required=False),)),
        Intent("ticket_status", slots=(Slot("ticket_key", "", entity="ticket_key", required=False),)),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Open a ticket or report on one."""
        if ctx.intent == "ticket_status":
            await self._status(ctx)
        else:
            await self._open(turn, ctx)

    async def _open(self, turn: Turn, ctx: Context) -> None:
        summary = str(ctx.slots.get("summary") or (turn.text if _has_substance(turn.text) else ""))
        if not summary:
            await ctx.ask("summary", "Sure. In a sentence, what is the problem or what do you need?")
            return
        system = str(ctx.slots.get("system") or "")
        urgency = "high" if _URGENT.search(summary) else "normal"
        description = str(ctx.slots.get("description") or summary)
        data = {"summary": summary[:255], "description": description, "system": system, "urgency": urgency}
        existing = await ctx.tickets.find_open(ctx.employee.email, system)
        if existing is not None:
            await ctx.confirm(
                f"You already have an open ticket about {system}: {existing.key} \"{existing.summary}\". "
                "Shall I add this to that ticket instead of opening a new one?",
                "add_to_existing", {**data, "key": existing.key}, yes="Add to it", no="Open a new one",
            )
            return
        await self._preview(ctx, data)

    async def _preview(self, ctx: Context, data: dict[str, Any]) -> None:
        fields = [Field("Summary", data["summary"]), Field("Urgency", data["urgency"])]
        if data["system"]:
            fields.insert(1, Field("System", data["system"]))
        await ctx.confirm("Here is the ticket I'll open for you. Submit it?", "submit", data,
                          fields=tuple(fields), yes="Submit", no="Cancel")

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """Submit the previewed ticket, or add to the existing one."""
        if action == "add_to_existing":
            if yes:
                ticket = await ctx.tickets.comment(data["key"], ctx.employee.email, data["description"])
                await ctx.reply(f"Added to {ticket.key}. The technician working on it will see it.")
            else:
                await self._preview(ctx, data)
            return
        if not yes:
            await ctx.reply("OK, I didn't open a ticket.")
            return
        ticket = await ctx.tickets.create(
            reporter=ctx.employee.email, summary=data["summary"], description=data["description"],
            system=data["system"], urgency=data["urgency"],
        )
        await ctx.audit.record(ctx.employee.email, "ticket.create", target=ticket.key)
        await ctx.reply(f"Done: ticket {ticket.key} is open. I'll tell you when a technician updates it.")
        await ctx.tell_technicians(f"New ticket {ticket.key} from {ctx.employee.email}: {ticket.summary}",
                                   fields=(Field("Urgency", ticket.urgency),))

    async def _status(self, ctx: Context) -> None:
        key = ctx.slots.get("ticket_key")
        if key:
            ticket = await ctx.tickets.get(str(key))
            if ticket is None:
                await ctx.reply(f"I can't find a ticket called {key}. Check the number, or say \"my tickets\".")
                return
            if ticket.reporter != ctx.employee.email and not ctx.employee.is_technician:
                raise PermissionDenied(f"{ticket.key} isn't one of your tickets, so I can't show it.")
            await ctx.reply(f"{ticket.key}: {ticket.summary}", fields=_fields(ticket), private=True)
            return
        tickets = await ctx.tickets.list_for(ctx.employee.email)
        if not tickets:
            await ctx.reply("You have no open tickets. If something needs fixing, just tell me about it.")
            return
        lines = [f"• {t.key} ({t.status}): {t.summary}" for t in tickets[:10]]
        await ctx.reply("Your open tickets:\n" + "\n".join(lines), private=True)
