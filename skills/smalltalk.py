"""Greetings, thanks, goodbye, help, and asking for a person."""

from __future__ import annotations

from typing import ClassVar

from bot.sdk import Context, Escalation, Fallback, Field, Intent, Prompt, Skill, Turn, UnknownButton

__all__ = ["SmallTalk"]


class SmallTalk(Skill):
    """The polite parts of a conversation, ``help``, and the hand-off to a human."""

    name = "smalltalk"
    summary = "Pass you to a person on the IT team"
    examples = ("I want to talk to a person",)
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("greet", label="Just saying hello", offered=False, is_request=False),
        Intent("goodbye", label="Goodbye", offered=False, is_request=False),
        Intent("thanks", label="Thanks", offered=False, is_request=False),
        Intent("help", label="What can you do?", offered=False, is_request=False),
        Intent("human_handoff", label="Talk to a person", fallback=Fallback.PERSON, confirmed_by="person",
               guide_unless_cued=True),
    )
    prompts: ClassVar[tuple[Prompt, ...]] = (
        Prompt("What can you do?", "what can you do", "help", "What I can do for you", 80),
        Prompt("Talk to a person", "I want to talk to a person", "human_handoff", "Hand over to an IT technician", 90),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Answer the small talk, list what the bot can do, or call a technician."""
        if ctx.intent == "greet":
            await ctx.reply(f"Hi {ctx.employee.name}! I'm the IT helpdesk bot. What can I help you with today?")
        elif ctx.intent == "goodbye":
            await ctx.reply("Bye for now. Message me any time you need IT help.")
        elif ctx.intent == "thanks":
            await ctx.reply("You're welcome! Anything else I can help with?")
        elif ctx.intent == "help":
            await self._help(ctx)
        else:
            await self._handoff(turn, ctx)

    async def _help(self, ctx: Context) -> None:
        lines = []
        for skill in ctx.available_skills():
            example = f' (for example: "{skill.examples[0]}")' if skill.examples else ""
            lines.append(f"• {skill.summary}{example}")
        if ctx.employee.is_technician:
            lines.append('• As a technician: send notices to all staff ("announce email maintenance Saturday '
                         '6am to 10am"), and approve or deny requests in the technicians\' conversation')
        await ctx.reply("Here is what I can do for you:\n" + "\n".join(lines)
                        + "\nJust tell me in your own words.")

    async def _handoff(self, turn: Turn, ctx: Context) -> None:
        """Ask the technicians to get in touch; what the words signal (a counter with residents waiting, a
        dispatch console down, a security matter) goes with it as its urgency and why, and public-facing work
        that has stopped also gets the urgent ticket's preview, so that it is tracked."""
        who = ctx.employee
        department = f" ({who.department})" if who.department else ""
        signal = ctx.signal() if not turn.is_click else None
        fields = (Field("Urgency", signal.label.urgency), Field("Why", signal.label.reason)) if signal else ()
        await ctx.tell_technicians(
            f"{who.name}{department} <{who.email}> asked to talk to a person.\nThey wrote: {turn.text[:500]}",
            buttons=(ctx.button("take", who.email, "I'll take it", "primary"),), fields=fields,
        )
        await ctx.audit.record(who.email, "handoff.request", outcome="pending")
        await ctx.outcomes.escalated(who.email, Escalation.HANDOFF)
        marked = f"I've marked it {signal.label.urgency}: {signal.label.reason}. " if signal else ""
        await ctx.reply(
            f"I've asked the IT technicians to get in touch with you. {marked}Someone will message you here "
            "during working hours. If it's an emergency that stops your work, call the IT helpdesk line."
        )
        if signal is not None and signal.label.kind == "urgency":
            await ctx.hand_over("open_ticket")  # public-facing work stopped: the urgent ticket, one click to file

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """A technician takes a hand-off."""
        if action != "take":
            raise UnknownButton
        if not ctx.employee.is_technician:
            await ctx.reply("Only technicians can take a hand-off.", private=True)
            return
        await ctx.audit.record(ctx.employee.email, "handoff.take", target=argument)
        await ctx.reply(f"{ctx.employee.name} is taking the hand-off for {argument}.")
        await ctx.tell(argument, f"{ctx.employee.name} from IT will contact you shortly.")
