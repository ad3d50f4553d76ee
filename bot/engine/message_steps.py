"""The steps a message passes through, in order, each with one job (see ``bot.engine.chain``).

Too long, a reply in a keyed thread, the NLU and the conversation's state, an answer to what
the conversation waits for, a stray yes or no, a follow-up read with the message before it, the
fallback, a close call, a guide first; whatever is left starts the intent read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.core.messages import Button, Reply, Turn
from bot.core.parse import Parser
from bot.core.pending import ClarifyPending, ConfirmPending, Pending, SlotPending, decode_pending
from bot.engine.chain import Next, Step
from bot.engine.context import Context, Engine, Services
from bot.engine.fallback import Fallbacks
from bot.engine.guard import guard
from bot.engine.registry import SkillRegistry
from bot.engine.skill import Fallback
from bot.engine.understanding import (
    FOLLOW_UP_WINDOW,
    FOLLOW_UP_WORDS,
    Understanding,
    carries_on,
    goes_on,
    refers_back,
    tells_outside,
    top,
    tried_it,
)
from bot.nlu.request import (
    CUES,
    asks_a_question,
    asks_after_earlier,
    asks_desk_to_act,
    asks_for_person,
    asks_how,
    asks_how_it_stands,
    parse_request,
)
from bot.store import utcnow

__all__ = ["Dispatcher", "Message", "MessageSteps", "Routed"]


Routed = tuple[str, str]
"""How a turn was routed, for the metrics: the intent read (or what stood for it) and the skill (or step)."""

YES_NO = ("affirm", "deny")


class Dispatcher(Engine, Protocol):
    """What the steps ask of the router around them: start an intent, or take an answer to a pending step."""

    async def confirm(self, turn: Turn, pending: ConfirmPending, yes: bool) -> None:
        """Give the answer to a yes-or-no question to the skill that asked it."""
        ...

    async def more(self, turn: Turn, pending: ConfirmPending) -> bool:
        """Give a message that adds to a pending yes-or-no question to the skill that asked it; True when taken."""
        ...

    async def fill_slot(self, turn: Turn, pending: SlotPending, value: str) -> str:
        """Fill the slot the conversation waits for with ``value`` and go on; the skill's name."""
        ...


@dataclass
class Message:
    """A message on its way through the steps, with what they learn of it."""

    turn: Turn
    text: str
    pending: Pending | None = None
    """What the conversation waited for when the message came."""
    previous: str = ""
    """The previous message, when recent enough for this one to refer to it."""
    previous_intent: str = ""
    """The intent the previous message started (with ``previous``), if it started one."""
    misses: int = 0


class MessageSteps:
    """The steps of a message, in order (``chain()``); ``start_intent`` ends the chain."""

    def __init__(self, skills: SkillRegistry, services: Services, nlu: Callable[[], Parser],
                 understanding: Understanding, fallbacks: Fallbacks, dispatcher: Dispatcher) -> None:
        self.skills = skills
        self.services = services
        self.nlu = nlu
        self.understanding = understanding
        self.fallbacks = fallbacks
        self.dispatcher = dispatcher

    def chain(self) -> Sequence[Step[Message, Routed]]:
        """The steps, in the order a message meets them."""
        return (self.not_empty, self.length_check, self.thread_routing, self.read, self.pending_answer,
                self.stray_yes_no, self.follow_up, self.fallback, self.close_call, self.asked_to_act,
                self.reported_in_guide, self.guide_first)

    def _sure(self, message: Message, *intents: str) -> bool:
        intent, confidence = top(message.turn.parse)
        return intent in intents and confidence >= self.services.settings.nlu_threshold

    async def not_empty(self, message: Message, call_next: Next[Routed]) -> Routed:
        """An empty message is dropped."""
        return ("none", "router") if not message.text else await call_next()

    async def length_check(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A message too long to read is refused with a way on."""
        limit = self.services.settings.max_message_chars
        if len(message.text) <= limit:
            return await call_next()
        await self._reply(
            message.turn,
            f"That message is very long ({len(message.text):,} characters). Please send a shorter "
            f"description (under {limit:,} characters), or ask me to open a ticket.",
        )
        return "too_long", "router"

    async def thread_routing(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A reply under a keyed bot message (``turn.thread_key``, ``"<skill>:..."``) goes to that skill's
        ``on_thread_reply``, unless the skill lets it through as an ordinary message."""
        turn = message.turn
        owner = self.skills.by_name.get((turn.thread_key or "").partition(":")[0])
        if not turn.thread_key or owner is None:
            return await call_next()
        ctx = Context(self.services, self.dispatcher, turn, owner)
        handled = False

        async def reply() -> None:
            nonlocal handled
            handled = await owner.on_thread_reply(turn, ctx, turn.thread_key or "")

        await guard(ctx, reply())
        if handled:
            return "thread_reply", turn.thread_key.partition(":")[0]
        return await call_next()

    async def read(self, message: Message, call_next: Next[Routed]) -> Routed:
        """Parse the message and load the conversation's state; remember the message as the latest."""
        turn = message.turn
        turn.parse = await parse_request(self.nlu(), message.text, self.services.settings.nlu_max_chars,
                                         may_ask=self._may_ask(turn), cues=self.understanding.cues)
        conversations = self.services.conversations
        state = await conversations.load(turn)
        message.pending = decode_pending(state.pending)
        message.previous = state.last_text if _recent(state.updated_at) else ""
        message.previous_intent = (state.last_intent or "") if message.previous else ""
        message.misses = state.misses
        await conversations.save(turn, last_text=message.text[:2000], last_intent="")
        return await call_next()

    def _may_ask(self, turn: Turn) -> Callable[[str], bool]:
        """Whether this person may ask for an intent (one no skill handles is not the registry's to refuse)."""
        def may_ask(intent: str) -> bool:
            skill = self.skills.by_intent.get(intent)
            return skill is None or turn.employee is None or skill.allows(turn.employee, intent)
        return may_ask

    async def pending_answer(self, message: Message, call_next: Next[Routed]) -> Routed:
        """Answer what the conversation waits for: a yes or no to a question, a value for a slot."""
        turn, pending = message.turn, message.pending
        if isinstance(pending, ConfirmPending):
            if self._sure(message, *YES_NO):
                await self.dispatcher.confirm(turn, pending, top(turn.parse)[0] == "affirm")
                return str(top(turn.parse)[0]), pending.skill
            if self._adds_to(message, pending) and await self.dispatcher.more(turn, pending):
                return "more", pending.skill
            await self.services.conversations.save(turn, pending=None)
        elif isinstance(pending, SlotPending):
            if self._sure(message, "deny"):
                await self.services.conversations.save(turn, pending=None)
                await self._reply(turn, "OK, I have dropped that. What else can I do for you?")
                return "deny", "router"
            return str(pending.intent), await self.dispatcher.fill_slot(turn, pending, message.text)
        return await call_next()

    def _adds_to(self, message: Message, pending: ConfirmPending) -> bool:
        """The message goes on from the one before ("today it shows error 500 ...", "and now it also ...", "just tried
        the backup pc too ...") and is read as nothing surely, as a question no guide answers, or first as something
        the skill that waits for a yes or no handles. Anything else (a new problem told from the start, a sure wish
        for a person or question, a question a guide surely answers) is read on its own."""
        turn, understanding = message.turn, self.understanding
        intent = top(turn.parse)[0]
        waiting = self.skills.by_name.get(pending.skill)
        unanswered = intent == understanding.guides and not understanding.guide_likely(turn, reading=True)
        asked = asks_a_question(message.text) and understanding.guide_sure(turn)  # "... is that in there too"
        return ((goes_on(message.text) or tried_it(message.text)) and waiting is not None and not asked
                and (not understanding.confident(turn.parse) or unanswered or waiting.intent(str(intent)) is not None))

    async def stray_yes_no(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A yes or no when nothing waits for one."""
        if not self._sure(message, *YES_NO):
            return await call_next()
        await self._reply(message.turn, "There is nothing waiting for a yes or no right now. What can I help with?")
        return str(top(message.turn.parse)[0]), "router"

    async def follow_up(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A follow-up is read together with the previous message (``Understanding.read_with``). One that refers
        back to a question asked about something named ("and the payment site too?") asks it again. After a guide, a
        wish for a person ("if somebody could stop by") reaches the technicians, and a longer message that tells more
        of the problem, or says the steps did not settle it, gets the ticket preview with both messages."""
        if not message.previous:
            return await call_next()
        declared = self.skills.declared(self._asked_before(message))
        if declared is not None and declared.asked_again and refers_back(message.text):
            self.understanding.read_as(message.turn, declared.name)  # "ok and the payment site too?"
            return declared.name, await self.dispatcher.start(message.turn, declared.name)
        status = self._status_after_request(message)
        if status is not None:  # just after filing: "is there any news on that one?"
            self.understanding.read_as(message.turn, status)
            return status, await self.dispatcher.start(message.turn, status)
        person = self.skills.fallback(Fallback.PERSON)
        if person is not None and message.previous_intent == self.understanding.guides \
                and asks_for_person(message.text):
            self.understanding.read_as(message.turn, person)  # the steps given, "if somebody could stop by ..."
            return person, await self.dispatcher.start(message.turn, person)
        guides = self.understanding.guides
        guided = (self.understanding.answers_with_guide(message.previous_intent)
                  or await self._guide_beside_previous(message))
        if guides is not None and guided and self._whom_after_guide(message):
            given = await self._guide_given(message)  # "its for the public defenders office, they arent on city email"
            self.understanding.read_as(message.turn, guides)
            return guides, await self.dispatcher.start(message.turn, guides, {"again": given} if given else None)
        if guides is not None and guided and (self._asks_after_guide(message)
                                              or await self.understanding.about_guide_given(message.turn)):
            self.understanding.read_as(message.turn, guides)  # "will they need some special program to open it"
            return guides, await self.dispatcher.start(message.turn, guides)
        ticket = self.skills.fallback(Fallback.TICKET)
        if ticket is not None and (self._problem_after_answer(message) or (
                self._guide_not_enough(message) and not await self._another_guide(message))):
            slots = {"summary": message.previous[:200], "description": f"{message.previous}\n{message.text}"}
            return ticket, await self.dispatcher.start(message.turn, ticket, slots)
        await self.understanding.read_with(message.turn, message.previous)
        return await call_next()

    def _status_after_request(self, message: Message) -> str | None:
        """The intent that asks after one's requests (``confirmed_by`` the "earlier" cue), when the previous message
        filed one and this one asks how it stands without naming it: the request it asks after is that one."""
        ticket = self.skills.fallback(Fallback.TICKET)
        if ticket is None or message.previous_intent != ticket or not asks_how_it_stands(message.text):
            return None
        return next((name for name, cue in self.understanding.cues.items() if cue is asks_after_earlier), None)

    @staticmethod
    def _asked_before(message: Message) -> str:
        """What the previous message asked: the intent it started, else the likeliest reading offered for it."""
        pending = message.pending
        if message.previous_intent or not isinstance(pending, ClarifyPending) or not pending.options:
            return message.previous_intent
        return pending.options[0]

    async def _guide_beside_previous(self, message: Message) -> bool:
        """A guide was shown beside the request the previous message made, of an intent offered beside a guide
        (``Intent.guide_first``): "This guide often fixes that ...", the password rules beside the reset offered for
        "keeps rejecting every new password i try"."""
        declared, employee = self.skills.declared(message.previous_intent), message.turn.employee
        if declared is None or not declared.guide_first or employee is None:
            return False  # an outage answer's guide is for the symptom: "any idea how long?" asks of the outage
        since = self.services.clock() - FOLLOW_UP_WINDOW
        return await self.services.questions.answered(employee.email, message.previous, since)

    def _asks_after_guide(self, message: Message) -> bool:
        """After a guide (the previous message's answer, or shown beside it), the message asks a question ("does the
        invite give him anything to dial", "could she plug into the jack instead?", "can it have spaces in it then")
        that asks the desk for nothing, carries no cue (others too, a person, a request made earlier) and says nothing
        of trying the steps, and is read as a how-to question, a problem or nothing sure: it asks about what the guide
        was about, which the how-to skill answers."""
        turn, understanding, text = message.turn, self.understanding, message.text
        intent = top(turn.parse)[0]
        return (asks_a_question(text) and not asks_desk_to_act(text) and not tried_it(text)
                and not any(cue(text) for cue in CUES.values())
                and (intent in (understanding.guides, self.skills.fallback(Fallback.TICKET))
                     or not understanding.confident(turn.parse)))

    def _whom_after_guide(self, message: Message) -> bool:
        """After a guide, the message tells that the one it is for is outside the city ("its for the public defenders
        office, they arent on city email"), says nothing of trying the steps, asks the desk for nothing, carries no cue
        and no security matter the signal reader is sure of: the same guide, with its part for outside people."""
        turn, understanding, text = message.turn, self.understanding, message.text
        return (tells_outside(text) and not tried_it(text) and not asks_desk_to_act(text)
                and not any(cue(text) for cue in CUES.values()) and not understanding.surely_security(turn))

    async def _guide_given(self, message: Message) -> str | None:
        """The id of the guide the person was given last, if recently enough to be followed up."""
        employee = message.turn.employee
        if employee is None:
            return None
        return await self.services.questions.last_article(employee.email, self.services.clock() - FOLLOW_UP_WINDOW)

    async def _another_guide(self, message: Message) -> bool:
        """A guide other than the one just given answers the message alone: it tells a need of its own ("also my
        paralegal needs to see my calendar and put hearings on it"), not more of the same problem."""
        hit = self.services.kb.best(message.turn.text)
        return hit is not None and message.turn.employee is not None \
            and hit.article.id != await self._guide_given(message)

    def _problem_after_answer(self, message: Message) -> bool:
        """After an answer a problem may follow (``Intent.problem_follows``: "is the records system down" and it is
        not known to be), the message starts like a continuation ("ok so nothing posted about it ...") and is read as
        a problem to report, or as nothing surely, and asks nothing ("ok what about the payment page" asks again): the
        report goes on from the question."""
        declared = self.skills.declared(message.previous_intent)
        intent = top(message.turn.parse)[0]
        text = message.text
        return (declared is not None and declared.problem_follows and carries_on(text)
                and not asks_a_question(text) and not asks_how(text)
                and (intent == self.skills.fallback(Fallback.TICKET)
                     or not self.understanding.confident(message.turn.parse)))

    def _guide_not_enough(self, message: Message) -> bool:
        """After a guide, the message goes on telling the problem ("and now it does it with the AP folder too, ...")
        or says the steps did not settle it ("tried adding it like it says and outlook tells me ..."), rather than
        asking anything, and is read as a how-to question, a problem or nothing sure; or says the steps were tried
        and is read as anything its words do not confirm ("did exactly that, badged in, hit send": no security
        matter)."""
        turn, understanding = message.turn, self.understanding
        intent = top(turn.parse)[0]
        tried = tried_it(message.text)
        asks = asks_a_question(message.text) or asks_how(message.text)
        return (message.previous_intent == understanding.guides
                and (goes_on(message.text) or tried)
                and len(message.text.split()) > FOLLOW_UP_WORDS
                and (not asks or (tried and asks_desk_to_act(message.text)))
                and (intent in (understanding.guides, self.skills.fallback(Fallback.TICKET))
                     or not understanding.confident(turn.parse)
                     or (tried and not understanding.confirmed(turn, str(intent)))))

    async def fallback(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A message not understood surely enough gets the fallback (never a dead end)."""
        if self.understanding.confident(message.turn.parse):
            return await call_next()
        await self.fallbacks.unsure(message.turn, message.misses)
        return top(message.turn.parse)[0] or "none", "fallback"

    async def close_call(self, message: Message, call_next: Next[Routed]) -> Routed:
        """Two close readings: a guide when the message asks how and one is to offer beside a guide, or when one
        reading is a how-to question and a guide likely answers it (the other reading offered beside it); the
        one the signal reader confirms; else ask which was meant."""
        turn, understanding = message.turn, self.understanding
        assert turn.parse is not None
        close = understanding.close_call(turn.parse)
        person = self.skills.fallback(Fallback.PERSON)
        if person in close and understanding.confirmed(turn, person):  # "... if somebody has a minute to talk me
            return person, await self.dispatcher.start(turn, person)     # through it instead": the wish decides
        matter = next((i for i in close if understanding.confirmed_by_signal(turn, i)), None)
        if matter is not None:  # "left the membership ipad on the tram ... what do I do?": the report, the guide below
            return matter, await understanding.matter_then_guide(turn, matter)
        asked = understanding.guide_answers(turn) and any(understanding.guide_first(i) for i in close)
        if close and (asked or (understanding.guides in close and understanding.guide_likely(turn, reading=True))):
            guides = str(understanding.guides)
            return guides, await understanding.answer_with_guide(turn, next(i for i in close if i != guides))
        confirmed = next((i for i in close if understanding.confirmed(turn, i)), None)
        if confirmed is not None:  # a close call the signal reader settles: "an invoice from my mailbox"
            return confirmed, await self.dispatcher.start(turn, confirmed)
        if close:
            await self.fallbacks.clarify(turn, close)
            return "clarify", "router"
        return await call_next()

    async def asked_to_act(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A message read as a how-to question that asks the desk to do it ("can someone put the pdf program on
        my computer"), or that tells a need a guide says to ask IT for ("she starts on the 14th and needs a
        computer"), is a request: the ticket preview, with a guide that surely covers it shown first."""
        turn, understanding = message.turn, self.understanding
        ticket = self.skills.fallback(Fallback.TICKET)
        if ticket is None or top(turn.parse)[0] != understanding.guides or not understanding.asked_to_act(turn):
            return await call_next()
        return ticket, await self.dispatcher.start(turn, ticket)

    async def reported_in_guide(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A how-to question whose guide says to report the matter at once, told as that matter (the signal reader
        reads it): the report the guide asks for, and the guide below it (``Understanding.reported_in_guide``)."""
        turn, understanding = message.turn, self.understanding
        matter = understanding.reported_in_guide(turn) if top(turn.parse)[0] == understanding.guides else None
        if matter is None:
            return await call_next()
        return matter, await understanding.matter_then_guide(turn, matter)

    async def guide_first(self, message: Message, call_next: Next[Routed]) -> Routed:
        """A how or why question a guide answers gets the guide, the intent read offered beside it, and so does a
        message read as such an intent only in a part, when its skill says so (``Intent.guide_over_a_part``); when
        the words confirm that intent (a security matter the signal reader reads), the request itself, and the guide
        below. A message that asks the desk to do it gets the intent itself."""
        turn, understanding = message.turn, self.understanding
        intent = top(turn.parse)[0] or ""
        if understanding.guide_unless_cued(turn, intent):  # "is there a number people can call into my meeting"
            return str(understanding.guides), await understanding.answer_with_guide(turn, intent, offer_any=True)
        if not (understanding.guide_first(intent)
                and (understanding.guide_answers(turn) or understanding.guide_over_a_part(turn, intent))):
            return await call_next()
        if asks_desk_to_act(turn.text):  # "... so if my account could be unlocked on your end": the offer itself
            return await call_next()
        guides = str(understanding.guides)
        if intent not in (guides, self.skills.fallback(Fallback.TICKET)) and understanding.confirmed(turn, intent):
            return intent, await understanding.matter_then_guide(turn, intent)
        return guides, await understanding.answer_with_guide(turn, intent)

    async def start_intent(self, message: Message) -> Routed:
        """The end of the chain: start the intent read."""
        intent = top(message.turn.parse)[0]
        return intent or "", await self.dispatcher.start(message.turn, intent or "")

    async def _reply(self, turn: Turn, text: str, buttons: tuple[Button, ...] = ()) -> None:
        await self.services.delivery.deliver(Reply(text, buttons), origin=turn)


def _recent(updated_at: datetime | None) -> bool:
    """True when the conversation's last message is recent enough for a follow-up to refer to it."""
    if updated_at is None:
        return False
    aware = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
    return utcnow() - aware <= FOLLOW_UP_WINDOW
