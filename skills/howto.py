"""How-to answers from the knowledge base, with "did this help?" and a ticket when it does not."""

from __future__ import annotations

from typing import ClassVar

from bot.context import Context
from bot.messages import Button, Field, Turn
from bot.skill import Intent, Skill, Slot

__all__ = ["HowTo"]

MIN_SCORE = 2.0


class HowTo(Skill):
    """Answer how-to questions with the first steps of the best article."""

    name = "howto"
    summary = "Answer how-to questions (VPN from home, out-of-office, scanning, voicemail...)"
    examples = ("how do I set my out of office?",)
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("howto", slots=(Slot("system", "", entity="system", required=False),)),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Give the best article's first steps, or say honestly that there is none."""
        systems = (str(ctx.slots["system"]),) if ctx.slots.get("system") else ()
        hits = ctx.kb.search(turn.text, systems=systems, limit=1)
        if not hits or hits[0].score < MIN_SCORE:
            await ctx.audit.record(ctx.employee.email, "howto.unanswered", detail=turn.text[:300])
            offer = await ctx.offer("open_ticket", "Open a ticket", {"summary": turn.text[:200]})
            await ctx.reply("I don't have a guide for that yet. I can open a ticket so a technician can help.",
                            buttons=(offer,))
            return
        article = hits[0].article
        steps = "\n".join(article.first_steps())
        link = ctx.kb.link(article)
        fields = (Field("Full guide", link),) if link else ()
        await ctx.reply(
            f"*{article.title}*\n{article.summary()}\n{steps}",
            fields=fields,
            buttons=(ctx.button("helped", article.id, "Yes, that helped", "primary"),
                     ctx.button("unhelpful", article.id, "No")),
        )

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """Feedback on an answer; "No" offers a ticket."""
        await ctx.audit.record(ctx.employee.email, f"howto.{action}", target=argument)
        if action == "helped":
            await ctx.reply("Great, glad that helped!")
        elif action == "unhelpful":
            offer: Button = await ctx.offer(
                "open_ticket", "Open a ticket", {"summary": f"How-to did not help (article {argument})"}
            )
            await ctx.reply("Sorry about that. Shall I open a ticket so a technician can help you directly?",
                            buttons=(offer,))
