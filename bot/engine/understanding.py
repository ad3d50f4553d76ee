"""How the router reads a message: sure enough to act, a close call, a question a guide answers, a follow-up."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.core.messages import Turn
from bot.core.parse import IntentScore, Parser, ParseResult, entities_of, ranking_of, read_first
from bot.engine.context import Services
from bot.engine.registry import SkillRegistry
from bot.engine.skill import ROUTER_INTENTS, Fallback
from bot.nlu.request import CUES, asks_a_question, asks_desk_to_act, asks_how, parse_request, tells_approval
from bot.nlu.signals import ALONE, SURE, Signal

__all__ = ["FOLLOW_UP_WINDOW", "Starter", "Understanding", "carries_on", "goes_on", "refers_back", "systems_of",
           "tells_outside", "top", "tried_it"]

FOLLOW_UP_WORDS = 14
FOLLOW_UP_WINDOW = timedelta(minutes=30)
"""How recent the previous message (or guide) must be for a message to be read as following it."""
_FOLLOW_UP = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|alright)\W+)?(?:sorry|oops|no+|nope|nah|actually|i meant|i mean|meant|not that|"
    r"the other|what about|also|and|same|it'?s the|its the|wrong)\b", re.IGNORECASE)
"""How a message that corrects or continues the previous one starts."""
_GOES_ON = re.compile(
    r"^\W*(?:and|also|plus|oh|btw|ps|forgot|one more thing|now|today|still|same|it|its|it'?s|this|that|they|"
    r"there)\b", re.IGNORECASE)
"""How a message that adds to the one before starts ("today it shows error 500", "and now it also ...")."""
_OUTSIDE = re.compile(
    r"\bnot (?:a |on )?city (?:employee|staff|email|account)s?\b|\b(?:arent|aren'?t|isnt|isn'?t|not) on (?:city|our) "
    r"(?:email|network|system)\b|\b(?:an|the|a|some) outside (?:\w+ )?(?:firm|agency|company|office|engineer|"
    r"consultant|vendor|attorney|lawyer)s?\b|\bnot (?:anybody|anyone|somebody|someone) (?:in|at|from) (?:the|our|this) "
    r"(?:building|office|city)\b|\b(?:at|over at|from|with) the (?:county|state)\b",
    re.IGNORECASE)
"""How a message tells that the person something is for is outside the city ("they arent on city email", "hes with
the outside engineering firm", "the assistant attorney over at the county")."""
_CARRIES_ON = re.compile(r"^\W*(?:ok(?:ay)?|k|so|well|alright|right|hmm+|then)\b(?!\W+(?:what|how) about\b)",
                         re.IGNORECASE)
"""How the next turn of a conversation starts ("ok so nothing posted about it", "well then ...")."""

_TRIED = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|so|well|yeah|yes)\W+)?(?:i )?(?:tried|did|followed) (?:exactly |just )?"
    r"(?:that|it|this|those|them|all that|adding|doing|the steps|what (?:it|you) said|everything)\b|"
    r"\b(?:did(?:n'?t| not)|does(?:n'?t| not)) (?:work|help|fix)\b|\bno luck\b|"
    r"^\W*(?:i )?(?:just |also |already )?tried (?:the|a|another|my|restarting|rebooting|logging|signing|unplugging)\b|"
    r"\bstill (?:nothing|the same|no (?:luck|change|difference)|says|shows|wont|won'?t|doesnt|doesn'?t|does it)\b|"
    r"\balready (?:restarted|rebooted|unplugged|reset|checked|tried)\b|"
    r"\b(?:did|tried|followed|done|plugged|pushed|pressed|checked|restarted|rebooted|unplugged) (?:\w+ ){1,4}"
    r"(?:like|as) (?:it|you|the (?:guide|article|steps)) (?:says|said)\b",
    re.IGNORECASE)
"""How a message that says the guide before it did not settle it reads ("tried adding it like it says and ..."), or
that tells what was tried since ("just tried the backup pc too and its the same", "looked in junk and scanned again,
still nothing")."""

Starter = Callable[[Turn, str, "dict[str, Any] | None"], Awaitable[str]]
"""Start an intent for a turn (with slots filled); answers the name of the skill that ran."""


_REFERS_BACK = re.compile(
    r"\b(?:it'?s|its|it is) the one (?:about|for|with|from|i|we|that)\b|"
    r"^\W*(?:(?:ok(?:ay)?|so)\W+)?(?:and|what about|how about)\b[^?]*\b(?:too|as well|also)\s*\?|"
    r"^\W*(?:(?:ok(?:ay)?|so)\W+)?(?:and|what about|how about) (?!(?:how|why|what|when|where|who|which|is|are|"
    r"does|do|did|can|could|will|would|should|if|then)\b)(?:\w+ ){0,4}\w+\s*\?", re.IGNORECASE)
"""How a follow-up refers back to what the previous message asked about ("its the one about the plotter", "and
the payment site too?", "and the S drive? the rate tables folder wont open either")."""
_ALSO = re.compile(r"^\W*(?:(?:ok(?:ay)?|oh|and|so)\W+)?(?:also|plus|one more thing|another thing)\b",
                   re.IGNORECASE)
"""How a message that adds something of its own starts ("also when im out in the yard id like calls to ring my
cell")."""
_ASKS_ANEW = re.compile(r"\b(?:can|could) (?:i|we) (?:get|have|borrow|order)\b|\b(?:can|could|would|will) "
                        r"(?:you|u|someone|somebody)\b|\bi (?:need|want|would like)\b", re.IGNORECASE)
"""A follow-up that asks for something of its own ("and can i get a second monitor too?")."""


def refers_back(text: str) -> bool:
    """The message refers back to the question before it, about something it names, and asks nothing of its own."""
    return _REFERS_BACK.search(text) is not None and _ASKS_ANEW.search(text) is None


def top(parse: ParseResult | None) -> tuple[str | None, float]:
    """The parse's intent and how sure it is (None and 0.0 for no parse)."""
    intent = parse.get("intent") if parse else None
    if not intent:
        return None, 0.0
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def systems_of(turn: Turn) -> tuple[str, ...]:
    """The system the message names (its first ``system`` entity), as the how-to skill boosts guides about it."""
    return next(((str(e["value"]),) for e in entities_of(turn.parse) if e["entity"] == "system"), ())


def tried_it(text: str) -> bool:
    """The message says the steps given before were tried, or did not work."""
    return _TRIED.search(text) is not None


def carries_on(text: str) -> bool:
    """The message starts like the next turn of a conversation ("ok so ...", "well ...") or adds to the one before."""
    return _CARRIES_ON.search(text) is not None or goes_on(text)


def tells_outside(text: str) -> bool:
    """The message tells, and does not ask, that the person something is for is outside the city."""
    return _OUTSIDE.search(text) is not None and "?" not in text


def goes_on(text: str) -> bool:
    """The message adds to the one before rather than starting anew: it makes little sense alone."""
    return _GOES_ON.search(text) is not None


class Understanding:
    """The router's reading of a message, from its parse, the skills' declarations and the guides."""

    def __init__(self, skills: SkillRegistry, services: Services, nlu: Callable[[], Parser], start: Starter,
                 show: Starter) -> None:
        """``start`` starts an intent for a turn; ``show`` runs one beside it (see ``show_guide``)."""
        self.skills = skills
        self.services = services
        self.nlu = nlu
        self.start = start
        self.show = show

    @property
    def cues(self) -> dict[str, Callable[[str], bool]]:
        """The intents a cue of the words confirms (``confirmed_by`` one of ``bot.nlu.request.CUES``), with it."""
        return {declared.name: CUES[declared.confirmed_by] for skill in self.skills.by_name.values()
                for declared in skill.intents if declared.confirmed_by in CUES}

    @property
    def guides(self) -> str | None:
        """The intent that answers with a guide, if a loaded skill declares it."""
        return self.skills.fallback(Fallback.GUIDES)

    def confident(self, parse: ParseResult | None) -> bool:
        """The parse names an intent a skill handles, surely enough to act on."""
        intent, confidence = top(parse)
        return (intent is not None and intent != "out_of_scope" and intent in self.skills.by_intent
                and confidence >= self.services.settings.nlu_threshold)

    def guide_first(self, intent: str) -> bool:
        """Whether ``intent`` is one to offer beside a guide when the message asks how or why (its
        declaration says ``guide_first``), or is the how-to intent itself."""
        if intent == self.guides:
            return True
        declared = self.skills.declared(intent)
        return declared is not None and declared.guide_first

    def answers_with_guide(self, intent: str) -> bool:
        """Whether ``intent`` answers with a guide: the how-to intent, or one declared ``self_service`` (changing
        one's own password: its guide and the self-service page)."""
        declared = self.skills.declared(intent)
        return intent == self.guides or (declared is not None and declared.self_service)

    def confirmed(self, turn: Turn, intent: str) -> bool:
        """The message carries what confirms ``intent``: the signal reader reads the kind of signal declared, or the
        words carry the cue declared (``bot.nlu.request.CUES``: others have it too, a request made earlier)."""
        declared = self.skills.declared(intent)
        if declared is not None and declared.confirmed_by in CUES:
            return CUES[declared.confirmed_by](turn.text)
        if declared is None or not declared.confirmed_by:
            return False
        signal = self.signal(turn)
        return (signal is not None and signal.label.kind == declared.confirmed_by
                and (declared.confirmed_with is None or declared.confirmed_with(turn.text)))

    def signalled_alone(self, turn: Turn) -> str | None:
        """The intent a signal read surely enough to stand alone (``ALONE``) confirms, whatever the parser ranks: "I
        set it down on one of the folding chairs under the tent and now it is not there" is a lost device, although
        the part the parser reads best is a how-to question."""
        signal = self.signal(turn)
        if signal is None or signal.confidence < ALONE:
            return None
        return next((i.name for i in self.skills.signalled() if i.confirmed_by == signal.label.kind), None)

    def confirmed_by_signal(self, turn: Turn, intent: str) -> bool:
        """``intent`` is confirmed by the signal reader (a security matter read in the message), not by a cue of the
        words: two independent readers agree on something that must not wait behind a guide."""
        declared = self.skills.declared(intent)
        return declared is not None and declared.confirmed_by not in CUES and self.confirmed(turn, intent)

    def guide_over_a_part(self, turn: Turn, intent: str) -> bool:
        """``intent`` is declared ``guide_over_a_part``, only a part of the message reads as it ("... confirmation
        email and everything"), no security matter is read surely (``SURE``), and a guide the judge is sure of
        (``kb_beside_confidence``) answers the message: the guide comes first, the intent beside it."""
        declared = self.skills.declared(intent)
        whole = turn.text[:self.services.settings.nlu_max_chars]
        if declared is None or not declared.guide_over_a_part or turn.parse is None or turn.parse.get("text") == whole:
            return False
        return not self.surely_security(turn) and self.guide_sure(turn)

    def signal(self, turn: Turn) -> Signal | None:
        """What the signal reader reads in the message, if a reader is loaded and it reads anything."""
        reader = self.services.signals()
        return reader.read(turn.text) if reader is not None else None

    def surely_security(self, turn: Turn) -> bool:
        """The signal reader is sure (``SURE``) the message tells of a security matter."""
        signal = self.signal(turn)
        return signal is not None and signal.security and signal.confidence >= SURE

    async def about_guide_given(self, turn: Turn) -> bool:
        """After a guide, the message reads as an intent declared ``guide_over_a_part``, no security matter is read
        surely (``SURE``), the guide just given is among the message's own first two, and the judge is sure
        (``kb_beside_confidence``) of it read with the message: "their paralegal wrote back that she got a link and a
        request for a code rather than the agreement" reads as a phishing report for its link and code, but it is
        about the encrypted email the guide explained."""
        declared = self.skills.declared(top(turn.parse)[0] or "")
        if declared is None or not declared.guide_over_a_part or turn.employee is None or self.surely_security(turn):
            return False
        since = self.services.clock() - FOLLOW_UP_WINDOW
        kb = self.services.kb
        given = kb.article(await self.services.questions.last_article(turn.employee.email, since))
        if given is None or given.id not in [hit.article.id for hit in kb.search(turn.text, limit=2)]:
            return False  # the message alone must lean to that guide too: a title read before anything leads it
        hit = kb.best(f"{given.title}: {turn.text}", floor=self.services.settings.kb_beside_confidence)
        return hit is not None and hit.article.id == given.id

    def guide_unless_cued(self, turn: Turn, intent: str) -> bool:
        """``intent`` is declared ``guide_unless_cued``, the words do not carry its cue, and a guide the judge is sure
        of (``kb_beside_confidence``) answers the message: the guide comes first, the intent beside it."""
        declared = self.skills.declared(intent)
        return (declared is not None and declared.guide_unless_cued and declared.confirmed_by in CUES
                and not CUES[declared.confirmed_by](turn.text) and (asks_a_question(turn.text) or asks_how(turn.text))
                and self.guide_sure(turn))

    def guide_answers(self, turn: Turn) -> bool:
        """The message asks how or why ("how do i reset it myself", "why does it keep locking", "what do i
        do") and a guide likely answers it, as for a how-to question (``kb_answer_confidence``)."""
        return (self.guides is not None and (asks_how(turn.request) or asks_how(turn.text))
                and self.guide_likely(turn, reading=True))

    def guide_likely(self, turn: Turn, *, reading: bool = False) -> bool:
        """A guide surely answers the message, or likely does (the how-to skill's own floor,
        ``kb_answer_confidence``) when the message asks how or why, or when the NLU reads it as a how-to
        question among others (``reading``)."""
        floor = self.services.settings.kb_answer_confidence if reading or asks_how(turn.text) else None
        return self.services.kb.best_of(turn.text, turn.request, floor=floor) is not None

    def asked_to_act(self, turn: Turn) -> bool:
        """The message asks the desk to do something for the person ("could you get me added"), tells that a
        supervisor approved it without asking how ("got the ok from my supervisor for bluebeam ... asset tag
        PW-2231"), reports public-facing work stopped, or tells a need a guide says to ask IT for: a request to file,
        even when it reads as a how-to question."""
        return (asks_desk_to_act(turn.text) or (tells_approval(turn.text) and not asks_how(turn.text))
                or self.reports_work_stopped(turn) or self.guide_to_request(turn))

    def reports_work_stopped(self, turn: Turn) -> bool:
        """The message asks nothing, and the signal reader reads public-facing work stopped (urgency, not security):
        "comm center, console 4. the select audio drops out every few minutes and the dispatcher loses the first words"
        is a report to file at once, whatever guide its words half match."""
        if asks_a_question(turn.text) or asks_how(turn.text):
            return False
        signal = self.signal(turn)
        return signal is not None and not signal.security

    def guide_sure(self, turn: Turn) -> bool:
        """A guide the judge is sure of (``kb_beside_confidence``) answers the message."""
        floor = self.services.settings.kb_beside_confidence
        return self.services.kb.best_of(turn.text, turn.request, floor=floor) is not None

    def reported_in_guide(self, turn: Turn) -> str | None:
        """The intent to start when the guide the judge is sure of (``kb_beside_confidence``) says to report the matter
        at once (``Article.reported``) and the signal reader reads that kind of matter in the message, even unsurely:
        "I left the zoo's membership scanning ipad on the safari tram ... what do I do?" gets the urgent report, not
        only the guide that says to ask for it. Two readers agree, so no signal alone (``ALONE``) is needed. The
        guide may be the second the search ranks, when the judge is sure of it too: "my city iphone is gone ... has
        email and the ePCR app on it" ranks the guide on email on a phone first, the one on lost devices next."""
        signal = self.signal(turn)
        if signal is None:
            return None
        kb, floor = self.services.kb, self.services.settings.kb_beside_confidence
        hits = [kb.best_of(turn.text, turn.request, floor=floor), *kb.search(turn.text, limit=2)[1:]]
        if not any(hit is not None and hit.confidence >= floor and hit.article.reported == signal.label.kind
                   for hit in hits):
            return None
        return next((i.name for i in self.skills.signalled() if i.confirmed_by == signal.label.kind), None)

    def guide_to_request(self, turn: Turn) -> bool:
        """A guide the judge is sure of (``kb_beside_confidence``) tells how to ask IT for what the message needs,
        and the message tells the need rather than asks how ("she starts on the 14th and needs a computer, email
        and munis"). The guide is the best for the message, or the best about the system it names, as the how-to
        skill would find it ("... needs to read and answer from the inspections scheduling inbox": the shared mailbox
        guide, which says access is asked of IT)."""
        if asks_how(turn.text):
            return False
        floor = self.services.settings.kb_beside_confidence
        hits = (self.services.kb.best_of(turn.text, turn.request, systems=systems, floor=floor)
                for systems in dict.fromkeys(((), systems_of(turn))))
        return any(hit is not None and hit.article.request for hit in hits)

    async def answer_with_guide(self, turn: Turn, intent: str, *, offer_any: bool = False) -> str:
        """Answer with the guide; ``intent`` (when it is one to offer beside a guide, or any with ``offer_any``)
        is a button under it."""
        guides = self.guides
        assert guides is not None
        offer = ({"offer": intent, "offer_label": self.skills.label(intent, turn.parse)}
                 if intent and intent != guides and (offer_any or self.guide_first(intent)) else {})
        return await self.start(turn, guides, offer)

    async def matter_then_guide(self, turn: Turn, intent: str) -> str:
        """Start ``intent`` as it would go without a question ("my laptop was stolen last night, what do i need to do
        now": the matter is real), and show below it the guide that surely answers the question: never a half-matched
        guide below an urgent report."""
        started = await self.start(turn, intent, None)
        if self.guides is not None and self.guide_sure(turn):
            await self.show(turn, self.guides, None)
        return started

    async def show_guide(self, turn: Turn, about: str = "") -> bool:
        """Show the guide that surely covers the message, as a self-service answer beside the request the
        message makes ("the copier keeps jamming", "is the K drive down", "i cant remember my password"): the
        request still goes on. Only a guide the judge is sure of (``kb_beside_confidence``): a likely one is too
        often about something else. False when none, and for a click (a button offered beside a guide must not show
        it again). ``about`` names what the guide should be about ("Reset my password"), so that a message
        that also names Munis or a PIN still finds the password guide."""
        guides = self.guides
        if guides is None or turn.is_click:
            return False
        kb, floor = self.services.kb, self.services.settings.kb_beside_confidence
        hit = (kb.best_of(f"{about}: {turn.text}", turn.request, floor=floor, among=2) if about
               else kb.best_of(turn.text, turn.request, floor=floor))
        if hit is None:
            return False
        await self.show(turn, guides, {"beside": hit.article.id})
        return True

    def close_call(self, parse: ParseResult) -> list[str]:
        """The top two intents when they are too close to choose between, else []."""
        ranking = [r for r in parse.get("intent_ranking", []) if r["name"] not in ROUTER_INTENTS]
        if len(ranking) < 2 or parse["intent"]["name"] in ROUTER_INTENTS:
            return []
        first, second = ranking[0], ranking[1]
        margin = self.services.settings.nlu_ambiguity_margin
        if first["confidence"] - second["confidence"] < margin and second["name"] in self.skills.by_intent:
            return [first["name"], second["name"]]
        return []

    def read_as(self, turn: Turn, intent: str) -> None:
        """Read the turn as ``intent`` first (what the context says it asks), the parser's own readings after it."""
        assert turn.parse is not None  # the read step parsed it
        own = next((r["confidence"] for r in ranking_of(turn.parse) if r["name"] == intent), 0.0)
        turn.parse = read_first(turn.parse, IntentScore(name=intent, confidence=float(own)))

    async def read_with(self, turn: Turn, previous: str) -> bool:
        """Read a follow-up together with the previous message: a short one that starts like a correction or a
        continuation ("sorry, I meant the other printer"), or any that is not understood alone ("they're at the
        county building though, does that change how i do it").

        True when together they are understood, and then the turn carries the joined text and its parse.
        """
        text = turn.text.strip()
        short = len(text.split()) <= FOLLOW_UP_WORDS and _FOLLOW_UP.search(text) is not None
        if not short and self.confident(turn.parse):
            return False
        asked_alone = self.confident(turn.parse) and top(turn.parse)[0] == self.guides
        if (asked_alone or _ALSO.search(text)) and self.services.kb.best(text):
            return False  # "also how do i let kim see my calendar": a question or need of its own, a guide answers it
        if self.confident(turn.parse) and _ASKS_ANEW.search(text):
            return False  # "and can i get a second monitor too?": a request of its own, understood alone
        joined = f"{previous.strip()}\n{text}"
        parse = await parse_request(self.nlu(), joined, self.services.settings.nlu_max_chars, cues=self.cues)
        if not self.confident(parse):
            return False
        turn.follow_up, turn.text, turn.parse = text, joined, parse
        return True
