"""No dead ends: what the router says to a message it is not sure of, or to a close call.

A likely guide is answered; otherwise the likeliest readings and the nearest guides are offered,
always with the intents the skills declare for the fallback (open a ticket, talk to a person).
"""

from __future__ import annotations

from bot.core.action import SkillClick, StartIntent, encode_action
from bot.core.messages import Button, Reply, Turn
from bot.core.parse import ranking_of
from bot.core.pending import ClarifyPending
from bot.engine.context import Services
from bot.engine.registry import SkillRegistry
from bot.engine.skill import ROUTER_INTENTS, Fallback
from bot.engine.understanding import Starter, Understanding, top
from bot.nlu.request import asks_how

__all__ = ["MISSES_BEFORE_HUMAN", "Fallbacks"]

MISSES_BEFORE_HUMAN = 2
READINGS_OFFERED = 2
ARTICLES_OFFERED = 3


class Fallbacks:
    """Answers to the messages the router cannot act on by itself."""

    def __init__(self, skills: SkillRegistry, services: Services, understanding: Understanding,
                 start: Starter) -> None:
        self.skills = skills
        self.services = services
        self.understanding = understanding
        self.start = start

    async def clarify(self, turn: Turn, options: list[str]) -> None:
        """Ask which of two close readings was meant (the one this person may start, if only one)."""
        allowed = [i for i in options if self.skills.by_intent[i].allows(turn.employee, i)]  # type: ignore[arg-type]
        if len(allowed) == 1:
            await self.start(turn, allowed[0], None)
            return
        await self.services.conversations.save(
            turn, pending=ClarifyPending(turn.text, turn.parse, {"summary": turn.text[:200]}, tuple(allowed))
        )
        buttons: list[Button] = []
        for intent in allowed:
            guides = self._article_buttons(turn.request) if intent == self.understanding.guides else []
            buttons += guides or [Button(encode_action(StartIntent(intent)), self.skills.label(intent, turn.parse))]
        buttons += self._offers(Fallback.PERSON)
        await self._reply(turn, "I want to be sure I get this right. Which did you mean?", tuple(buttons))

    def _readings(self, turn: Turn) -> list[str]:
        """The likeliest intents of an unclear message that this person may start, best first."""
        assert turn.employee is not None
        floor = self.services.settings.nlu_offer_floor
        readings: list[str] = []
        for scored in ranking_of(turn.parse):
            skill = self.skills.by_intent.get(scored["name"])
            declared = skill.intent(scored["name"]) if skill else None
            if (declared is None or not declared.offered or scored["confidence"] < floor
                    or declared.fallback != Fallback.NONE
                    or not skill.allows(turn.employee, scored["name"])):  # type: ignore[union-attr]
                continue
            readings.append(scored["name"])
        return readings[:READINGS_OFFERED]

    async def unsure(self, turn: Turn, misses: int) -> None:
        """A message the NLU is not sure of. Never a dead end: a problem told with a clear ticket lead gets the
        preview (under a guide that surely covers it); else a likely guide is answered; otherwise the likeliest
        readings and the nearest guides are offered, always with a ticket and a person."""
        settings = self.services.settings
        understanding = self.understanding
        readings = self._readings(turn)
        top_reading = next((float(r["confidence"]) for r in ranking_of(turn.parse)
                            if readings and r["name"] == readings[0]), 0.0)
        if readings and top_reading >= settings.nlu_offer_over_guide and understanding.guide_first(readings[0]) \
                and understanding.guide_answers(turn):
            await understanding.answer_with_guide(turn, readings[0])  # "why does it keep locking": guide, unlock beside
            return
        declared = self.skills.declared(readings[0]) if readings else None
        if declared is not None and declared.self_service and top_reading >= settings.nlu_offer_over_guide \
                and asks_how(turn.text):
            await self.start(turn, readings[0], None)  # "swap it for a new one myself": nothing done for them
            return
        # the first reading even when it is not one to offer: a wish for a person the words confirm
        candidates = (top(turn.parse)[0] or "", *readings[:1], *self._likeliest(turn))
        confirmed = (next((i for i in candidates if understanding.confirmed(turn, i)), None)
                     or understanding.signalled_alone(turn))
        if confirmed is not None:  # the signal reader settles it: a security matter, public-facing work stopped
            await self.start(turn, confirmed, None)
            return
        ticket = self._clear_lead(turn, Fallback.TICKET) or self._told_behind_a_guide(turn)
        if ticket is not None and not understanding.guide_answers(turn):
            await self.start(turn, ticket, None)  # a problem told, read as one though not surely: the preview asks,
            return                                # under a guide that surely covers it
        filing = self.skills.fallback(Fallback.TICKET)
        first, sure = top(turn.parse)
        not_it = first == "out_of_scope" and sure < settings.nlu_threshold and understanding.guide_to_request(turn)
        asked = first != "out_of_scope" and understanding.asked_to_act(turn)
        if filing is not None and (asked or not_it):
            await self.start(turn, filing, None)  # "could you get me added": a request, though read as a how-to; a
            return                                # need told that a guide says to ask IT for, read unsurely as not IT
        guides = understanding.guides
        if guides is not None and top_reading < settings.nlu_offer_over_guide and understanding.guide_likely(turn):
            await self.start(turn, guides, None)
            return
        howto_read = guides in [r["name"] for r in ranking_of(turn.parse) if r["name"] not in ROUTER_INTENTS][:2]
        if (guides is not None and howto_read and (readings or top_reading < settings.nlu_offer_over_guide)
                and understanding.guide_likely(turn, reading=True)):
            beside = readings[0] if readings else guides  # the guide, the other reading (if any) beside it
            await understanding.answer_with_guide(turn, beside, offer_any=True)
            return
        misses += 1
        await self.services.conversations.save(
            turn, misses=misses,
            pending=ClarifyPending(turn.text, turn.parse, {"summary": turn.text[:200]}, tuple(readings)),
        )
        buttons = [Button(encode_action(StartIntent(i)), self.skills.label(i, turn.parse)) for i in readings]
        buttons += self._article_buttons(turn.request)
        buttons += self._offers(Fallback.TICKET) + self._offers(Fallback.PERSON)
        intent, confidence = top(turn.parse)
        declined = intent == "out_of_scope" and confidence >= settings.nlu_threshold and misses < MISSES_BEFORE_HUMAN
        await self.services.outcomes.missed(turn, declined=declined and len(buttons) <= 2)
        if len(buttons) > 2:
            text = "I'm not completely sure what you need. Is it one of these?"
        elif declined:
            text = ("That isn't something I can help with, sorry: I'm the IT helpdesk bot (passwords, tickets, "
                    "how-to guides, outages). If it is an IT problem after all, I can open a ticket with what "
                    "you wrote, or put you through to a person.")
        else:
            text = ("Sorry, I don't know how to help with that yet. I can open a ticket with what you wrote so a "
                    "technician can look at it, or put you through to a person.")
        await self._reply(turn, text, tuple(buttons))

    def _likeliest(self, turn: Turn) -> list[str]:
        """The two likeliest readings that a skill handles and this person may start, above the offer floor (one
        may be the fallback offers by itself, such as the ticket), best first."""
        assert turn.employee is not None
        floor = self.services.settings.nlu_offer_floor
        likeliest: list[str] = []
        for scored in ranking_of(turn.parse):
            skill = self.skills.by_intent.get(scored["name"])
            if skill is not None and skill.allows(turn.employee, scored["name"]):
                if scored["confidence"] < floor or len(likeliest) == READINGS_OFFERED:
                    break
                likeliest.append(scored["name"])
        return likeliest

    def _clear_lead(self, turn: Turn, part: Fallback) -> str | None:
        """The intent that declares ``part`` in the fallback, when it is the likeliest reading, above
        ``nlu_offer_over_guide`` and clear of the next by ``nlu_ambiguity_margin``; else None."""
        intent = self.skills.fallback(part)
        ranking = [r for r in ranking_of(turn.parse) if r["name"] in self.skills.by_intent]
        if intent is None or not ranking or ranking[0]["name"] != intent:
            return None
        settings = self.services.settings
        first = float(ranking[0]["confidence"])
        second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        if len(ranking) > 1 and ranking[1]["name"] == self.understanding.guides and not asks_how(turn.text):
            second = 0.0  # a problem told, not asked how: the guide comes beside the preview when it surely covers it
        return intent if first >= settings.nlu_offer_over_guide and first - second >= settings.nlu_ambiguity_margin \
            else None

    def _told_behind_a_guide(self, turn: Turn) -> str | None:
        """The ticket intent, when a problem or need is told (not asked how, no question mark) and read first as a
        how-to question with the ticket close behind (``nlu_ambiguity_margin``): the preview then comes, under the
        guide that surely covers it, rather than the guide alone with nothing to file."""
        intent = self.skills.fallback(Fallback.TICKET)
        ranking = [r for r in ranking_of(turn.parse) if r["name"] in self.skills.by_intent]
        if intent is None or len(ranking) < 2 or asks_how(turn.text) or "?" in turn.text:
            return None
        first, second = ranking[0], ranking[1]
        close = first["confidence"] - second["confidence"] < self.services.settings.nlu_ambiguity_margin
        return intent if first["name"] == self.understanding.guides and second["name"] == intent and close else None

    def _offers(self, part: Fallback) -> list[Button]:
        """The button of the intent that declares ``part`` in the fallback (none if no skill does)."""
        intent = self.skills.fallback(part)
        return [Button(encode_action(StartIntent(intent)), self.skills.fallback_label(intent))] if intent else []

    def _article_buttons(self, text: str) -> list[Button]:
        """Buttons that show the guides nearest to ``text`` (those worth offering)."""
        skill = self.skills.by_intent.get(self.understanding.guides or "")
        if skill is None:
            return []
        hits = self.services.kb.search(text, limit=ARTICLES_OFFERED)
        return [Button(encode_action(SkillClick(skill.name, "article", str(hit.article.id))), hit.article.title)
                for hit in hits if hit.confidence >= self.services.settings.kb_offer_confidence]

    async def _reply(self, turn: Turn, text: str, buttons: tuple[Button, ...] = ()) -> None:
        await self.services.delivery.deliver(Reply(text, buttons), origin=turn)
