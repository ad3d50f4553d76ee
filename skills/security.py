"""Security matters: a lost or stolen device, an account that may be compromised, someone posing as staff.

Time matters here: a stolen laptop can be wiped and a hijacked account signed
out only while IT knows. So the employee sees the urgent report at once, with
what to do meanwhile, and one click ("Submit") alerts the security
conversation (``HELPDESK_SECURITY_CHANNEL``, else the technicians') and opens
an urgent ticket that says why. Nothing is sent without that click: a misread
message costs the employee a "No" and the technicians no false alarm. Which
matter it is comes from the signal classifier (``bot.nlu.signals``, trained on
``intents/signals/``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from bot.sdk import Button, Context, Escalation, Field, Intent, Reply, Skill, Slot, StartIntent, Turn, encode_action

__all__ = ["Security"]

SECOND_READING = 0.2
"""How likely the next reading must be to take a message the signal reader does not see as security."""

GENERAL_REASON = "a possible security problem"
# What the employee should do while IT works on it, by signal label.
_ADVICE = {
    "lost_device": (
        "IT can lock or wipe the device and sign your account out everywhere. Meanwhile:\n"
        "1. If it was stolen, report it to the police and add the report number to the ticket.\n"
        "2. Change your city password from another device.\n"
        "3. Tell your supervisor, and say what was on the device (residents' or police information)."
    ),
    "compromise": (
        "IT will check your account and sign it out everywhere. Meanwhile:\n"
        "1. Change your password now, from a device you trust.\n"
        "2. Do not approve sign-in prompts you did not start.\n"
        "3. If your computer acts strangely, unplug its network cable or turn off Wi-Fi, but leave it on."
    ),
    "impersonation": (
        "Meanwhile:\n"
        "1. Give them no passwords, codes, money, bank details or access. IT never asks for your password.\n"
        "2. If they are in the building, tell your supervisor or building security; do not let them in anywhere.\n"
        "3. Write down the name, number or address they used and add it to the ticket."
    ),
}
_GENERAL_ADVICE = ("Meanwhile, do not give anyone your password or codes, and add anything you notice to the "
                   "ticket.")


class Security(Skill):
    """Alert the security team at once and open an urgent ticket for a security matter."""

    name = "security"
    summary = "Report a lost or stolen device, a hacked account, or someone posing as staff"
    examples = ("my city phone was stolen",)
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("security_incident", slots=(Slot("system", "", entity="system", required=False),),
               label="Report a lost device or a security problem", guide_first=True,
               confirmed_by="security"),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Show the urgent report and what to do meanwhile; it is sent when the employee submits it."""
        signal = ctx.signal()
        if signal is None or not signal.security:
            await self._not_security(turn, ctx)
            return
        label, reason = signal.label.name, signal.label.reason
        text = turn.text.strip()
        await ctx.confirm(
            f"This sounds urgent. Submit this and I alert the IT security team at once and open an urgent "
            f"ticket. {_ADVICE.get(label, _GENERAL_ADVICE)}", "report",
            {"label": label, "reason": reason, "text": text},
            fields=(Field("Urgency", "urgent"), Field("Why", reason), Field("You wrote", text[:500])),
            yes="Submit", no="Not a security matter")

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """Submitted: alert and file. Not a security matter: nothing is sent; a normal ticket or a person."""
        if action != "report":
            return
        if yes:
            turn.text = str(data.get("text") or turn.text)
            await self._report(turn, ctx, str(data.get("label") or ""), str(data.get("reason") or GENERAL_REASON))
            return
        ticket = await ctx.offer("open_ticket", "Open a normal ticket", {"summary": str(data.get("text", ""))[:200]})
        person = Button(encode_action(StartIntent("human_handoff")), "Talk to a person")
        await ctx.reply("All right, I sent nothing. If you still need a hand, I can open a normal ticket or put you "
                        "through to a person.", buttons=(ticket, person))

    async def _report(self, turn: Turn, ctx: Context, label: str, reason: str) -> None:
        email = ctx.employee.email
        text = turn.text.strip()
        key, reference = await ctx.file_ticket(
            summary=f"Security: {reason}",
            description=f"Marked urgent: {reason}.\n\nReported through the helpdesk bot. The employee wrote:\n{text}",
            system=str(ctx.slots.get("system") or ""), urgency="urgent",
        )
        await ctx.audit.record(email, "security.report", target=label or "general", detail=reference)
        await ctx.outcomes.escalated(email, Escalation.TICKET)
        await ctx.send(Reply(f"URGENT security: {email} reports {reason} ({reference}).",
                             fields=(Field("They wrote", text[:500]),), to=ctx.security_room()))
        buttons: tuple[Button, ...] = ()
        if label != "impersonation":  # someone else may hold the password
            buttons = (await ctx.offer("reset_password", "Reset my password now"),)
        await ctx.reply(f"I've alerted the IT security team and opened an urgent {reference}; they will contact "
                        f"you. {_ADVICE.get(label, _GENERAL_ADVICE)}", buttons=buttons,
                        fields=(Field("Urgency", "urgent"), Field("Why", reason)))

    async def _not_security(self, turn: Turn, ctx: Context) -> None:
        """The intent says security but the signal reader, which knows security matters from everyday
        requests that mention laptops, badges or visitors, does not: no alarm on a guess. The next
        reading takes the message when it is likely, then a guide that likely answers it; otherwise the employee
        is asked."""
        readings = turn.parse.get("intent_ranking", []) if turn.parse else []
        ranking = [r for r in readings if r["name"] != "security_incident"]
        if ranking and ranking[0]["name"] != "out_of_scope" and ranking[0]["confidence"] >= SECOND_READING:
            await ctx.hand_over(ranking[0]["name"])
            return
        if ctx.kb.best_of(turn.text, turn.request, floor=ctx.settings.kb_answer_confidence) is not None:
            await ctx.hand_over("howto")  # "badge in at the copier?": a question a guide likely answers
            return
        report = ctx.button("report", "", "Yes, report it as a security problem", "danger")
        guide = Button(encode_action(StartIntent("howto")), "No, I have a question")
        ticket = await ctx.offer("open_ticket", "No, open a normal ticket", {"summary": turn.text[:200]})
        await ctx.reply("Is this a security problem: a lost or stolen device, someone using your account, or "
                        "someone pretending to be staff?", buttons=(report, guide, ticket))

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """"Yes, report it": the employee confirms a security matter the signal reader was unsure of."""
        if action != "report":
            return
        turn.text = await ctx.last_message()
        await self._report(turn, ctx, "", GENERAL_REASON)
