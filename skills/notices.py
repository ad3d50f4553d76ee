"""Outage status, phishing reports, and announcements by technicians."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.context import Context
from bot.messages import Field, Turn
from bot.skill import Intent, Skill, Slot

__all__ = ["Notices", "neutralise_mentions"]

_MENTION = re.compile(r"(?i)[@!](channel|everyone|here)\b|<!(channel|everyone|here)[^>]*>")
_ANNOUNCE = re.compile(r"^\s*(please\s+)?(announce|post|send|broadcast)\s+(an?\s+)?(notice|announcement)?\s*"
                       r"(to\s+(all\s+staff|everyone)\s*)?(that\s+|about\s+|:\s*)?", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """Defuse @channel, @everyone and @here so a notice cannot page the whole city."""
    return _MENTION.sub(lambda m: (m.group(0)[0] + "\u200b" + m.group(0)[1:]), text)


class Notices(Skill):
    """What is down, what to do with a suspicious email, and telling everyone."""

    name = "notices"
    summary = "Tell you whether a system is down, and take reports of suspicious emails"
    examples = ("is email down?", "I got a weird email asking for my password")
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("outage_status", slots=(Slot("system", "", entity="system", required=False),)),
        Intent("report_phishing"),
        Intent("announce", role="technician", slots=(Slot("system", "", entity="system", required=False),)),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Answer an outage question, take a phishing report, or compose an announcement."""
        if ctx.intent == "outage_status":
            await self._status(ctx)
        elif ctx.intent == "report_phishing":
            await self._phishing(ctx)
        else:
            await self._announce(turn, ctx)

    async def _status(self, ctx: Context) -> None:
        system = str(ctx.slots.get("system") or "")
        notices = await ctx.notices.active(system or None)
        if notices:
            lines = [f"• {n.title} (since {ctx.settings.local_time(n.created_at)})\n  {n.body[:300]}"
                     for n in notices[:5]]
            await ctx.reply("Yes, IT knows about this:\n" + "\n".join(lines))
            return
        what = system or "any system"
        offer = await ctx.offer("open_ticket", "Report it", {"summary": f"{system or 'Something'} seems to be down"})
        await ctx.reply(f"I don't know of any problem with {what} right now. If it isn't working for you, "
                        "I can report it to the IT team.", buttons=(offer,))

    async def _phishing(self, ctx: Context) -> None:
        await ctx.reply(
            "Thank you for checking. Here is what to do:\n"
            "1. Don't click links, open attachments or reply.\n"
            f"2. Forward the email as an attachment to {ctx.settings.security_email}, then delete it.\n"
            "3. If it claims to be from someone you know, call them on a number you already have."
        )
        await ctx.confirm("Did you click a link, open an attachment or type your password?", "phishing_exposed")

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """Phishing follow-up, or an announcement's go-ahead."""
        if action == "announce":
            if yes:
                await self._publish(ctx, data)
            else:
                await ctx.reply("OK, nothing was sent.")
            return
        await ctx.audit.record(ctx.employee.email, "phishing.report", outcome="exposed" if yes else "reported")
        if not yes:
            await ctx.reply("Good, then you are safe. Thanks for reporting it; the security team will look at it.")
            await ctx.tell_technicians(f"Phishing report from {ctx.employee.email} (no link clicked).")
            return
        ticket = await ctx.tickets.create(
            reporter=ctx.employee.email, summary="Phishing: employee clicked a link or entered a password",
            description="Reported through the helpdesk bot.", urgency="urgent",
        )
        await ctx.tell_technicians(
            f"URGENT security: {ctx.employee.email} clicked a phishing link or entered a password. "
            f"Ticket {ticket.key}.",
        )
        offer = await ctx.offer("reset_password", "Reset my password now")
        await ctx.reply(f"I've alerted the security team (ticket {ticket.key}); they will contact you. "
                        "To be safe, change your password now.", buttons=(offer,))

    async def _announce(self, turn: Turn, ctx: Context) -> None:
        text = _ANNOUNCE.sub("", turn.text).strip() or turn.text.strip()
        system = str(ctx.slots.get("system") or "")
        title = text[:1].upper() + text[1:120]
        data = {"title": title, "body": text, "systems": [system] if system else [],
                "kind": "maintenance" if "maintenance" in text.lower() else "outage"}
        await ctx.confirm(
            "Here is the notice. Send it to everyone now?", "announce", data,
            fields=(Field("Title", title), Field("Systems", system or "none named"), Field("Kind", data["kind"])),
            yes="Send it", no="Cancel",
        )

    async def _publish(self, ctx: Context, data: dict[str, Any]) -> None:
        notice = await ctx.notices.post(kind=data["kind"], title=data["title"], body=data["body"],
                                            systems=data["systems"], author=ctx.employee.email)
        recipients = await ctx.notices.recipients()
        text = neutralise_mentions(f"IT notice: {notice.title}")
        for email in recipients:
            if email != ctx.employee.email:
                await ctx.tell(email, text)
        await ctx.audit.record(ctx.employee.email, "notice.publish", target=f"notice #{notice.id}",
                               detail=f"sent to {len(recipients) - 1} people")
        sent = max(len(recipients) - 1, 0)
        await ctx.reply(f"Sent notice #{notice.id} to {sent} {'person' if sent == 1 else 'people'}.")
