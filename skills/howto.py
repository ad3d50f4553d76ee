"""How-to answers from the knowledge base, with "did this help?" and a ticket when it does not."""

from __future__ import annotations

import re
from typing import ClassVar

from bot.sdk import (
    FOLLOW_UP_WINDOW,
    Article,
    Button,
    Context,
    Fallback,
    Field,
    Hit,
    Intent,
    Prompt,
    Skill,
    SkillClick,
    Slot,
    StartIntent,
    Turn,
    UnknownButton,
    encode_action,
    record_id,
)

__all__ = ["HowTo", "article_answer"]

RUNNER_UP_GAP = 0.2
"""How far behind the first guide of a question after a guide the guide just given may be and still be asked about."""
_UNDOES_IT = re.compile(
    r"\b(?:stop|undo|cancel|reverse|remove|disable|end)(?:ping|ing|s)? (?:it|that|this|them)\b(?! from)|"
    r"\b(?:turn|shut|switch|take|set|put|change)(?:ting|ing|s)? (?:it|that|this|them|everything) (?:off|back)\b|"
    r"\bmake (?:it|that|them) stop\b|\bgo(?:ing)? back to (?:normal|how it was)\b", re.IGNORECASE)
"""A follow-up that asks how to undo what the guide before it set up, without naming it ("and when im back in the
office how do i stop it", "how do i shut that off"): it is about that guide, whatever else its words name."""
_THEM = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|but|well|oh)\W+)?(?:(?:some|most|all|a few|one|two|both|none) of )?"
                   r"(?:they|them|those)\b", re.IGNORECASE)
"""A follow-up that starts by pointing back at the people the message before was about ("some of them said last
time ...", "they wrote back ...")."""


def article_answer(ctx: Context, article: Article) -> tuple[str, tuple[Field, ...]]:
    """An article as a chat answer: its title, summary and first steps, and a link to the whole guide."""
    steps = "\n".join(article.first_steps())
    link = ctx.kb.link(article)
    return f"*{article.title}*\n{article.summary()}\n{steps}", ((Field("Full guide", link),) if link else ())


class HowTo(Skill):
    """Answer how-to questions with the first steps of the best article, and learn from the misses."""

    name = "howto"
    summary = "Answer how-to questions (VPN from home, out-of-office, scanning, voicemail...)"
    examples = ("how do I set my out of office?",)
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("howto", slots=(Slot("system", "", entity="system", required=False),),
               label="Find a how-to guide", label_about="How-to guides for {system}", fallback=Fallback.GUIDES),
    )
    quick_actions: ClassVar[tuple[Button, ...]] = (
        Button(encode_action(SkillClick("howto", "ask")), "Ask a how-to question"),)
    prompts: ClassVar[tuple[Prompt, ...]] = (
        Prompt("How do I …", "how do I connect to the VPN?", "howto",
               "A how-to answer from the knowledge base", 30),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Give the best article's first steps; with no sure answer, offer the nearest guides, a ticket and
        a person (never a dead end)."""
        question = turn.text.strip()
        beside = ctx.kb.article(ctx.slots.get("beside"))
        if beside is not None:
            await self._beside(ctx, question, beside)
            return
        again = ctx.kb.article(ctx.slots.get("again"))  # the guide just given, for a follow-up telling whom it is for
        if again is not None:
            await self._answer(ctx, question, again)
            return
        systems = (str(ctx.slots["system"]),) if ctx.slots.get("system") else ()
        hit = await self._following(ctx, turn)
        hit = hit or ctx.kb.best_of(question, turn.request, systems=systems, floor=ctx.settings.kb_answer_confidence)
        if hit is None:
            await ctx.questions.record(question, ctx.employee.email, None)
            nearest = [h for h in ctx.kb.search(question, systems=systems)
                       if h.confidence >= ctx.settings.kb_offer_confidence]
            ticket = await ctx.offer("open_ticket", "Open a ticket", {"summary": question[:200]})
            person = Button(encode_action(StartIntent("human_handoff")), "Talk to a person")
            choices = tuple(ctx.button("article", h.article.id, h.article.title) for h in nearest)
            text = ("I'm not sure I have the right guide. Is it one of these? If not, I can open a ticket so a "
                    "technician can help, or put you through to a person.") if choices else (
                    "I don't have a guide for that yet, and I'd rather not guess. I can open a ticket so a "
                    "technician can help, or put you through to a person.")
            await ctx.reply(text, buttons=(*choices, ticket, person))
            return
        offered = ctx.slots.get("offer")
        extra: tuple[Button, ...] = (
            (await ctx.offer(str(offered), str(ctx.slots.get("offer_label") or offered)),) if offered else ())
        if ctx.kb.best_of(question, turn.request, systems=systems) is None:  # likely, not sure: the next guides too
            extra += tuple(ctx.button("article", h.article.id, h.article.title)
                           for h in ctx.kb.search(question, systems=systems)
                           if h.article.id != hit.article.id and h.confidence >= ctx.settings.kb_offer_confidence)[:2]
        await self._answer(ctx, question, hit.article, extra)

    async def _following(self, ctx: Context, turn: Turn) -> Hit | None:
        """A question asked just after a guide that no guide surely answers alone (``kb_beside_confidence``), read as a
        question about that guide's topic ("Turn on an out-of-office reply: will it shut itself off when i come back",
        which alone half matches the guide on restarts), when the judge is sure of the answer: such a question names
        no topic, and read with the message before, that message's context leads. A detail whose own likely guide
        ranks among the first three read with the one just given goes to it (the password rules, after changing one's
        password; sharing with outside people, "how do i cut off their access", after sending a big file). A question
        that undoes it ("how do i stop it"), points back at its people ("some of them"), or whose runner-up guide
        alone is the one just given (``_runner_up``) gets that guide when read with it the judge is surer. Any other
        question a guide surely answers alone gets that guide, read alone: joined with the message before ("whats the
        minimum length now"), the guide just given would lead again."""
        question = turn.follow_up or turn.text
        undoes, back = _UNDOES_IT.search(question) is not None, _THEM.search(question) is not None
        sure = ctx.kb.best(question, floor=ctx.settings.kb_beside_confidence)
        last = await ctx.questions.last_article(ctx.employee.email, ctx.now() - FOLLOW_UP_WINDOW)
        given = ctx.kb.article(last)
        if given is None:
            return None
        runner_up = sure is not None and self._runner_up(ctx, question, given.id)
        if sure is not None and not (undoes or back or runner_up):
            return sure  # a question a guide surely answers alone ("also how do i let kim see my calendar")
        about = f"{given.title}: {question}"
        if undoes or sure is not None:  # "how do i stop it"; "some of them said the sign in page never came up": the
            again = next((hit for hit in ctx.kb.search(about, limit=5) if hit.article.id == given.id), None)
            surer = again is not None and (sure is None or again.confidence > sure.confidence)
            return again if undoes or surer else None  # guide read with it, if surer than its own sure guide
        alone = ctx.kb.best(question, floor=ctx.settings.kb_answer_confidence)
        if alone is not None and alone.article.id != given.id:  # "does the new one need special characters": the
            beside = ctx.kb.search(about, limit=3)                # rules, beside the guide on changing it
            lead = next((h for h in beside if h.article.id == alone.article.id), None)
            if lead is not None and lead.confidence >= ctx.settings.kb_beside_confidence:
                return lead
        return ctx.kb.best(about)

    @staticmethod
    def _runner_up(ctx: Context, question: str, given: str) -> bool:
        """The guide just given is the second likeliest answer to the question alone, close behind the first
        (``RUNNER_UP_GAP``): "can outside ppl just get a short version", after the out-of-office guide, reads first as
        sharing files with outside people (0.78), then as that guide (0.59); "also how do i let my coworker see my
        calendar while im gone" is surely about calendars (0.87 to 0.52)."""
        hits = ctx.kb.search(question, limit=2)
        return (len(hits) == 2 and hits[1].article.id == given
                and hits[1].confidence >= max(ctx.settings.kb_answer_confidence, hits[0].confidence - RUNNER_UP_GAP))

    async def _answer(self, ctx: Context, question: str, article: Article, extra: tuple[Button, ...] = ()) -> None:
        """Answer with ``article``, ask whether it helped, and show ``extra`` (what the router offers beside
        a guide, such as "Reset my password" for "how do i reset it myself")."""
        query_id = await ctx.questions.record(question, ctx.employee.email, article.id)
        await ctx.outcomes.answered(ctx.employee.email, f"howto: {article.id}")
        text, fields = article_answer(ctx, article)
        await ctx.reply(
            f"{text}\nDid this help?", fields=fields,
            buttons=(ctx.button("helped", str(query_id), "Yes, that helped", "primary", feedback="positive"),
                     ctx.button("unhelpful", str(query_id), "No", feedback="negative"), *extra),
        )

    async def _fixed(self, ctx: Context, query_id: int, fixed: bool) -> None:
        """"That fixed it" under a guide shown beside a request drops the request, and nothing is sent; "No"
        is noted for the guide's figures, and the request stays where it is."""
        if await ctx.questions.feedback(query_id, ctx.employee.email, fixed) is None:
            await ctx.reply("Thanks, but I can only take one answer from the person who asked.", private=True)
            return
        if not fixed:
            await ctx.reply("Thanks for telling me. What you asked for is still there above, one click away.")
            return
        await ctx.forget_pending()
        await ctx.outcomes.resolved(ctx.employee.email)
        await ctx.reply("Great, glad that sorted it. I haven't sent anything on; message me if it comes back.")

    async def _beside(self, ctx: Context, question: str, article: Article) -> None:
        """A guide shown before the request it may settle (the skill asked then goes on with the request):
        "That fixed it" drops the request, "No" is noted and leaves it open, and the outcome is the request's."""
        query_id = await ctx.questions.record(question, ctx.employee.email, article.id)
        text, fields = article_answer(ctx, article)
        await ctx.reply(f"This guide often fixes that without waiting for a technician:\n{text}", fields=fields,
                        buttons=(ctx.button("fixed", str(query_id), "That fixed it", "primary", feedback="positive"),
                                 ctx.button("notfixed", str(query_id), "No", feedback="negative")))

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """Feedback on an answer ("No" offers a ticket with the question and the article filled in), or the
        home screen's "Ask a how-to question"."""
        if action == "ask":
            await ctx.reply("Sure. What would you like to know how to do? Ask in your own words, like "
                            "\"how do I connect to the VPN\".")
            return
        if action == "article":
            article = ctx.kb.article(argument)
            if article is None:
                await ctx.reply("That guide is no longer there. Ask me again in your own words, or I can open "
                                "a ticket.",
                                buttons=(Button(encode_action(StartIntent("open_ticket")), "Open a ticket"),))
                return
            await self._answer(ctx, await ctx.last_message() or article.title, article)
            return
        if action not in ("helped", "unhelpful", "fixed", "notfixed") or record_id(argument) is None:
            raise UnknownButton
        if action in ("fixed", "notfixed"):
            await self._fixed(ctx, int(argument), action == "fixed")
            return
        query = await ctx.questions.feedback(int(argument), ctx.employee.email, action == "helped")
        if query is None:
            await ctx.reply("Thanks, but I can only take one answer from the person who asked.", private=True)
            return
        if action == "helped":
            await ctx.outcomes.resolved(ctx.employee.email)
            await ctx.reply("Great, glad that helped!")
            return
        await ctx.outcomes.unhelpful(ctx.employee.email)
        shown = ctx.kb.article(query.article_id)
        title = shown.title if shown is not None else query.article_id
        offer = await ctx.offer("open_ticket", "Open a ticket", {
            "summary": query.question[:200],
            "description": f"{query.question}\n\nThe guide \"{title}\" ({query.article_id}) did not help.",
        })
        await ctx.reply("Sorry about that. Shall I open a ticket so a technician can help you directly?",
                        buttons=(offer,))
