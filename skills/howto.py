"""How-to answers from the knowledge base, with "did this help?" and a ticket when it does not."""

from __future__ import annotations

from typing import ClassVar

from bot.context import Context
from bot.messages import Button, Field, Turn
from bot.skill import Intent, Skill, Slot

__all__ = ["HowTo"]


class HowTo(Skill):
    """Answer how-to questions with the first steps of the best article, and learn from the misses."""

    name = "howto"
    summary = "Answer how-to questions (VPN from home, out-of-office, scanning, voicemail...)"
    examples = ("how do I set my out of office?",)
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("howto", slots=(Slot("system", "", entity="system", required=False),)),
    )
    quick_actions: ClassVar[tuple[Button, ...]] = (Button("skill:howto:ask:", "Ask a how-to question"),)

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Give the best article's first steps, or say honestly that there is none."""
        question = turn.text.strip()
        systems = (str(ctx.slots["system"]),) if ctx.slots.get("system") else ()
        hit = ctx.kb.best(question, systems=systems)
        if hit is None:
            await ctx.questions.record(question, ctx.employee.email, None)
            offer = await ctx.offer("open_ticket", "Open a ticket", {"summary": question[:200]})
            await ctx.reply("I don't have a guide for that yet, and I'd rather not guess. "
                            "I can open a ticket so a technician can help.", buttons=(offer,))
            return
        article = hit.article
        query_id = await ctx.questions.record(question, ctx.employee.email, article.id)
        steps = "\n".join(article.first_steps())
        link = ctx.kb.link(article)
        await ctx.reply(
            f"*{article.title}*\n{article.summary()}\n{steps}\nDid this help?",
            fields=(Field("Full guide", link),) if link else (),
            buttons=(ctx.button("helped", str(query_id), "Yes, that helped", "primary"),
                     ctx.button("unhelpful", str(query_id), "No")),
        )

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """Feedback on an answer ("No" offers a ticket with the question and the article filled in), or the
        home screen's "Ask a how-to question"."""
        if action == "ask":
            await ctx.reply("Sure. What would you like to know how to do? Ask in your own words, like "
                            "\"how do I connect to the VPN\".")
            return
        if action not in ("helped", "unhelpful") or not argument.isdigit():
            return
        query = await ctx.questions.feedback(int(argument), ctx.employee.email, action == "helped")
        if query is None:
            await ctx.reply("Thanks, but I can only take one answer from the person who asked.", private=True)
            return
        if action == "helped":
            await ctx.reply("Great, glad that helped!")
            return
        title = next((a.title for a in ctx.kb.articles if a.id == query.article_id), query.article_id)
        offer = await ctx.offer("open_ticket", "Open a ticket", {
            "summary": query.question[:200],
            "description": f"{query.question}\n\nThe guide \"{title}\" ({query.article_id}) did not help.",
        })
        await ctx.reply("Sorry about that. Shall I open a ticket so a technician can help you directly?",
                        buttons=(offer,))
