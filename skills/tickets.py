"""Open tickets, follow them, and comment on them from chat; technicians work the queue here too.

The backend (built-in queue, Jira or Jira Service Management) is behind
``ctx.tickets``; when it is down the request waits in the outbox and the
employee is messaged the key once it exists.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.sdk import (
    SURE,
    Button,
    Context,
    Escalation,
    Fallback,
    Field,
    Intent,
    PermissionDenied,
    Prompt,
    Skill,
    Slot,
    StartIntent,
    TicketQueued,
    TicketView,
    Turn,
    UnknownButton,
    UserFacingError,
    encode_action,
    record_id,
    summary_of,
)

__all__ = ["Tickets"]

_FILLER = frozenset(
    "a an the i im i'm need want would like to please can could you help me open create submit log file "
    "make start new raise put in ticket tickets request issue problem helpdesk it support for with my hi "
    "hello hey just".split()
)
_URGENT = re.compile(r"\b(urgent|asap|emergency|right away|immediately|can'?t work|cannot work|down for everyone)\b",
                     re.IGNORECASE)
_LOW = re.compile(r"\b(no rush|whenever|not urgent|low priority|when you get a chance)\b", re.IGNORECASE)
_KEY = r"([A-Za-z][A-Za-z0-9_]{0,19}-\d{1,9})"
_COMMENT = re.compile(rf"^\s*(?:please\s+)?(?:add|comment|note|append)(?:\s+this)?\s+(?:to|on)\s+(?:ticket\s+)?"
                      rf"{_KEY}\s*[:\-,]\s*(?P<body>.+)$", re.IGNORECASE | re.DOTALL)
_TAKE = re.compile(rf"^\s*(?:i'?ll\s+take|take|assign(?:\s+me)?|grab)\s+(?:ticket\s+)?{_KEY}\b", re.IGNORECASE)
_RESOLVE = re.compile(rf"^\s*(?:resolve|close|mark)\s+(?:ticket\s+)?{_KEY}(?:\s+(?:as\s+)?(?:resolved|done|fixed))?"
                      rf"\s*[:\-,]?\s*(?P<note>.*)$", re.IGNORECASE | re.DOTALL)
_QUEUE = re.compile(r"\b(?:open|all|unassigned|new)\s+tickets\b|\bticket\s+queue\b|\bthe\s+queue\b", re.IGNORECASE)


def _has_substance(text: str) -> bool:
    """True when the message says what the problem is, not only 'open a ticket'."""
    words = re.findall(r"[a-z']+", text.lower())
    return len([w for w in words if w not in _FILLER]) >= 2


_URGENCIES = ("low", "normal", "high", "urgent")
"""The urgencies of a ticket, least first."""


def urgency_of(text: str) -> str:
    """``high`` when the words say it is urgent, ``low`` when they say it is not, else ``normal``."""
    if _URGENT.search(text):
        return "high"
    return "low" if _LOW.search(text) else "normal"


def _fields(ticket: TicketView) -> tuple[Field, ...]:
    fields = [Field("Status", ticket.status), Field("Assignee", ticket.assignee or "not assigned yet")]
    if ticket.last_comment:
        fields.append(Field("Last comment", ticket.last_comment[:300]))
    if ticket.url:
        fields.append(Field("Link", ticket.url))
    return tuple(fields)


def _line(ticket: TicketView) -> str:
    line = f"• {ticket.key} ({ticket.status}): {ticket.summary}"
    line += f" — {ticket.assignee}" if ticket.assignee else " — not assigned yet"
    if ticket.last_comment:
        line += f"\n    last comment: {ticket.last_comment[:120]}"
    return line


def _entity(turn: Turn, name: str) -> str:
    for entity in turn.parse.get("entities", []) if turn.parse else []:
        if entity["entity"] == name:
            return str(entity["value"])
    return ""


class Tickets(Skill):
    """File tickets with a preview, report on them, take comments, and let technicians work the queue."""

    name = "tickets"
    summary = "Open a ticket for a problem or a request, and check on your tickets"
    examples = ("my monitor won't turn on", "any update on HELP-12?", "add to HELP-12: it happened again")
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("open_ticket", slots=(Slot("system", "", entity="system", required=False),),
               label="Report a problem", label_about="Report a problem with {system}", guide_first=True,
               confirmed_by="urgency",
               fallback=Fallback.TICKET, fallback_label="Open a ticket"),
        Intent("ticket_status", slots=(Slot("ticket_key", "", entity="ticket_key", required=False),),
               label="Check on my tickets", confirmed_by="earlier", asked_again=True),
    )
    quick_actions: ClassVar[tuple[Button, ...]] = (Button(encode_action(StartIntent("open_ticket")), "Open a ticket"),)
    prompts: ClassVar[tuple[Prompt, ...]] = (
        Prompt("My tickets", "my tickets", "ticket_status", "Your open tickets and their status", 40),
        Prompt("Open a ticket", "I need to open a ticket", "open_ticket",
               "Tell me the problem and I file a ticket", 50),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Open a ticket, or report on, comment on or work one."""
        if ctx.intent == "ticket_status":
            await self._follow(turn, ctx)
        else:
            await self._open(turn, ctx)

    # Opening -----------------------------------------------------------------

    async def _open(self, turn: Turn, ctx: Context) -> None:
        text = str(ctx.slots.get("summary") or (turn.text if _has_substance(turn.text) else ""))
        if not text.strip():
            ctx.continue_as("open_ticket")
            await ctx.ask("summary", "Sure. In a sentence, what is the problem or what do you need?")
            return
        system = str(ctx.slots.get("system") or _entity(turn, "system"))
        description = str(ctx.slots.get("description") or text)
        signal = ctx.signal(description)
        if signal is not None and signal.security and signal.confidence >= SURE and not turn.is_click \
                and "urgency" not in ctx.slots:
            await ctx.hand_over("security_incident")
            return
        urgency = str(ctx.slots.get("urgency") or (signal.label.urgency if signal else urgency_of(description)))
        why = str(ctx.slots.get("why") or (signal.note if signal else ""))
        data = {"summary": summary_of(text)[:255], "description": description, "system": system,
                "urgency": urgency, "why": why}
        if not ctx.slots.get("summary"):
            await ctx.show_guide()  # self-service first: the preview stays one click away
        existing = await ctx.tickets.find_open(ctx.employee.email, system)
        if existing is not None:
            await ctx.confirm(
                f"You already have an open ticket about {system}: {existing.key} \"{existing.summary}\". "
                "Shall I add this to that ticket instead of opening a new one?",
                "add_to_existing", {**data, "key": existing.key}, yes="Add to it", no="Open a new one",
            )
            return
        await self._preview(ctx, data)

    async def _preview(self, ctx: Context, data: dict[str, Any], lead: str = "") -> None:
        fields = [Field("Summary", data["summary"]), Field("Urgency", data["urgency"])]
        if data.get("why"):
            fields.append(Field("Why", data["why"]))
        if data["system"]:
            fields.insert(1, Field("System", ctx.system_name(data["system"])))
        if data["description"].strip() != data["summary"].strip():
            fields.append(Field("Description", data["description"][:500]
                                + ("…" if len(data["description"]) > 500 else "")))
        await ctx.confirm(f"{lead} Here is the ticket I'll open for you. Submit it, or edit it first?".lstrip(),
                          "submit", data,
                          fields=tuple(fields), yes="Submit", no="Edit")

    async def on_more(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any]) -> bool:
        """More words while the preview waits ("today it shows error 500 ... i need someone to look at it") go into
        the draft's description, and the preview is shown again, as urgent as the surer of the two readings."""
        description = f"{data.get('description', '')}\n{turn.text}"
        if action != "submit" or len(description) > ctx.settings.max_message_chars:
            return False  # a draft as long as the longest message is read no further
        signal = ctx.signal(description)
        if signal is not None and signal.security:
            return False  # a security matter read on its own goes to the security report
        urgency = max(str(data.get("urgency")), signal.label.urgency if signal else urgency_of(description),
                      key=lambda u: _URGENCIES.index(u) if u in _URGENCIES else 1)
        await self._preview(ctx, {**data, "description": description, "urgency": urgency,
                                  "why": data.get("why") or (signal.note if signal else ""),
                                  "system": data["system"] or _entity(turn, "system")}, lead="I've added that.")
        return True

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """Submit the previewed ticket (or edit it), or add to the existing one."""
        if action == "add_to_existing":
            if yes:
                ticket = await ctx.tickets.comment(data["key"], ctx.employee.email, data["description"])
                await ctx.outcomes.escalated(ctx.employee.email, Escalation.TICKET)
                await ctx.reply(f"Added to {ticket.key}. The technician working on it will see it.")
            else:
                await self._preview(ctx, data)
            return
        if not yes:
            ctx.continue_as("open_ticket", {"system": data["system"], "urgency": data["urgency"],
                                            "why": data.get("why", "")})
            await ctx.ask("summary", "What should the ticket say? Send the corrected description "
                                     "(or say \"no\" to drop it).")
            return
        why = str(data.get("why") or "")
        description = f"{why}.\n\n{data['description']}" if why else data["description"]
        try:
            ticket = await ctx.tickets.create(
                reporter=ctx.employee.email, summary=data["summary"], description=description,
                system=data["system"], urgency=data["urgency"],
            )
        except TicketQueued as queued:
            await ctx.outcomes.escalated(ctx.employee.email, Escalation.TICKET)
            await ctx.reply(str(queued))
            return
        await ctx.outcomes.escalated(ctx.employee.email, Escalation.TICKET)
        await ctx.audit.record(ctx.employee.email, "ticket.create", target=ticket.key)
        link = f" {ticket.url}" if ticket.url else ""
        await ctx.reply(f"Done: ticket {ticket.key} is open.{link} I'll tell you when a technician updates it. "
                        f"To add something, say \"add to {ticket.key}: ...\".",
                        key=f"{self.name}:{ticket.key}")
        await ctx.tell_technicians(f"New ticket {ticket.key} from {ctx.employee.email}: {ticket.summary}",
                                   fields=(Field("Urgency", ticket.urgency),) + ((Field("Why", why),) if why else ()),
                                   buttons=(ctx.button("take", ticket.key, "Take it"),))

    # Following ---------------------------------------------------------------

    async def _follow(self, turn: Turn, ctx: Context) -> None:
        """A status answer or a comment resolves the employee's request; a technician's queue work is none."""
        text = turn.text
        if match := _COMMENT.match(text):
            await self._comment(ctx, match.group(1), match.group("body"))
        elif match := _TAKE.match(text):
            await ctx.outcomes.forget(ctx.employee.email)
            await self._take(ctx, match.group(1))
            return
        elif match := _RESOLVE.match(text):
            await ctx.outcomes.forget(ctx.employee.email)
            await self._resolve(ctx, match.group(1), match.group("note").strip())
            return
        elif ctx.slots.get("ticket_key"):
            await self._status(ctx, str(ctx.slots["ticket_key"]))
        elif ctx.employee.is_technician and _QUEUE.search(text) and "my " not in text.lower():
            await ctx.outcomes.forget(ctx.employee.email)
            await self._queue(ctx)
            return
        else:
            await self._mine(ctx)
        await ctx.outcomes.resolved(ctx.employee.email)

    async def _ticket_for(self, ctx: Context, key: str) -> TicketView:
        """The ticket, if this person may see it (their own, or any for a technician)."""
        ticket = await ctx.tickets.get(key)
        mine = ticket is not None and (ticket.reporter == ctx.employee.email or ctx.employee.is_technician)
        if ticket is None or not mine:
            # One answer whether it does not exist or is someone else's, so that keys cannot be probed.
            if ticket is not None:
                await ctx.audit.record(ctx.employee.email, "tickets.denied", target=ticket.key, outcome="refused",
                                       detail="not their ticket")
            raise UserFacingError(f"I can't find a ticket of yours called {key.upper()}. "
                                  "Check the number, or say \"my tickets\".")
        return ticket

    async def _status(self, ctx: Context, key: str) -> None:
        ticket = await self._ticket_for(ctx, key)
        await ctx.reply(f"{ticket.key}: {ticket.summary}", fields=_fields(ticket), private=True)

    async def _mine(self, ctx: Context) -> None:
        tickets = await ctx.tickets.list_for(ctx.employee.email)
        waiting = await ctx.ticket_outbox.pending_for(ctx.employee.email)
        if not tickets and not waiting:
            await ctx.reply("You have no open tickets. If something needs fixing, just tell me about it.")
            return
        lines = [_line(t) for t in tickets[:10]]
        lines += [f"• request #{w.id} (waiting to be filed): {w.payload.get('summary', '')}" for w in waiting]
        await ctx.reply("Your open tickets:\n" + "\n".join(lines), private=True)

    async def _queue(self, ctx: Context) -> None:
        tickets = await ctx.tickets.list_open()
        if not tickets:
            await ctx.reply("The queue is empty: no open tickets.", private=True)
            return
        buttons: list[Button] = []
        for ticket in tickets[:10]:
            if not ticket.assignee:
                buttons.append(ctx.button("take", ticket.key, f"Take {ticket.key}"))
        more = f"\n(and {len(tickets) - 10} more)" if len(tickets) > 10 else ""
        await ctx.reply(f"Open tickets ({len(tickets)}):\n" + "\n".join(_line(t) for t in tickets[:10]) + more,
                        buttons=buttons[:5], private=True)

    async def _comment(self, ctx: Context, key: str, body: str) -> None:
        ticket = await self._ticket_for(ctx, key)
        ticket = await ctx.tickets.comment(ticket.key, ctx.employee.email, body.strip())
        await ctx.audit.record(ctx.employee.email, "ticket.comment", target=ticket.key)
        await ctx.reply(f"Added your comment to {ticket.key}.")
        if ctx.employee.email == ticket.reporter:
            await ctx.tell_technicians(f"{ticket.reporter} added to {ticket.key}: {body.strip()[:300]}")

    async def _take(self, ctx: Context, key: str) -> None:
        if not ctx.employee.is_technician:
            raise PermissionDenied("Only technicians can take tickets.")
        ticket = await self._ticket_for(ctx, key)
        ticket = await ctx.tickets.update(ticket.key, status="in progress", assignee=ctx.employee.email)
        await ctx.audit.record(ctx.employee.email, "ticket.take", target=ticket.key)
        await ctx.reply(f"{ticket.key} is yours now ({ticket.status}): {ticket.summary}",
                        buttons=(ctx.button("resolve", ticket.key, "Resolve"),), private=True)

    async def _resolve(self, ctx: Context, key: str, note: str) -> None:
        if not ctx.employee.is_technician:
            raise PermissionDenied("Only technicians can resolve tickets. If yours is fixed, say "
                                   "\"add to <ticket>: it works now\" and a technician will close it.")
        ticket = await self._ticket_for(ctx, key)
        if note:
            await ctx.tickets.comment(ticket.key, ctx.employee.email, note)
        ticket = await ctx.tickets.update(ticket.key, status="resolved")
        await ctx.audit.record(ctx.employee.email, "ticket.resolve", target=ticket.key)
        await ctx.reply(f"{ticket.key} is {ticket.status}. {ticket.reporter} has been told.", private=True)

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """Take it / Resolve buttons in the technicians' conversation, and "That fixed it" under a guide shown
        by an earlier version (the router now shows guides through the how-to skill)."""
        if action == "take":
            await self._take(ctx, argument)
        elif action == "resolve":
            await self._resolve(ctx, argument, "")
        elif action == "fixed" and record_id(argument) is not None:
            if await ctx.questions.feedback(int(argument), ctx.employee.email, True) is None:
                return
            await ctx.forget_pending()
            await ctx.reply("Great, glad that sorted it. I haven't opened a ticket; message me if it comes back.")
        else:
            raise UnknownButton

    async def on_thread_reply(self, turn: Turn, ctx: Context, thread: str) -> bool:
        """A reply under the bot's "ticket is open" message becomes a comment on that ticket."""
        key = thread.partition(":")[2]
        if not key or not turn.text.strip():
            return False
        await self._comment(ctx, key, turn.text)
        return True
