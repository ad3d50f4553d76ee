"""The router: one turn in, the right skill (or pending step) called.

Order of business for a turn: drop duplicates, answer clicks, then find the
request in the text and either feed the pending step (a slot, a yes/no) or
pick a skill by intent. Nothing ends at a dead end: a close call asks which
reading was meant, and an unclear message gets a likely guide or its likely
readings and nearest guides as buttons, always with a ticket and a person.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core import metrics
from bot.core.action import Answer, Choose, Decide, SkillClick, StartIntent, decode_action, encode_action
from bot.core.inbound import BadInput, clean_turn
from bot.core.messages import Button, Employee, Reply, Turn
from bot.engine.context import Context, Services
from bot.engine.guard import guard
from bot.engine.skill import ROUTER_INTENTS, Skill
from bot.nlu import Parser, ParseResult
from bot.nlu.request import asks_how, parse_request
from bot.store import Approval, utcnow

__all__ = ["Router"]

log = logging.getLogger(__name__)

MISSES_BEFORE_HUMAN = 2
KB_INTENT, TICKET_INTENT, PERSON_INTENT = "howto", "open_ticket", "human_handoff"
"""The intents every unclear message can fall back on: a guide, a ticket, a person."""
READINGS_OFFERED = 2
ARTICLES_OFFERED = 3
FOLLOW_UP_WINDOW = timedelta(minutes=30)
FOLLOW_UP_WORDS = 14
_FOLLOW_UP = re.compile(
    r"^\W*(?:sorry|oops|no+|nope|nah|actually|i meant|i mean|meant|not that|the other|what about|also|and|"
    r"same|it'?s the|its the|wrong)\b", re.IGNORECASE)
"""How a message that corrects or continues the previous one starts."""


class Router:
    """Routes turns to skills. It holds no state of its own: state is in the database."""

    def __init__(self, skills: list[Skill], services: Services, nlu: Callable[[], Parser]) -> None:
        """``nlu`` gives the parser once the app has trained it."""
        self.skills = skills
        self.services = services
        self.nlu = nlu
        self.skills_by_intent: dict[str, Skill] = {
            intent.name: skill for skill in skills for intent in skill.intents
        }
        self.skills_by_name: dict[str, Skill] = {skill.name: skill for skill in skills}

    async def handle(self, turn: Turn, *, deduplicated: bool = False) -> None:
        """Handle one turn from a channel. Its employee must already be resolved.

        A turn with an ``event_id`` runs once (a ``processed_event`` row), unless ``deduplicated``
        says the channel's inbox has already seen to that. Its text and ids are cleaned first; a turn
        that cannot be cleaned is refused.
        """
        try:
            clean_turn(turn)
        except BadInput as exc:
            log.info("refused a turn from %s: %s", turn.channel, exc)
            await self._reply(turn, "I did not recognise that button. It may be from an old message.")
            return
        conversations = self.services.conversations
        if turn.event_id and not deduplicated and not await conversations.first_time(turn.channel, turn.event_id):
            metrics.DUPLICATES.labels(turn.channel).inc()
            return
        started = time.perf_counter()
        intent, skill_name = "click" if turn.is_click else "none", "router"
        try:
            if turn.is_click:
                skill_name = await self._click(turn)
            else:
                intent, skill_name = await self._message(turn)
        finally:
            metrics.TURNS.labels(intent, skill_name).inc()
            metrics.LATENCY.observe(time.perf_counter() - started)

    # Messages ---------------------------------------------------------------

    async def _message(self, turn: Turn) -> tuple[str, str]:
        settings = self.services.settings
        text = turn.text.strip()
        if not text:
            return "none", "router"
        if len(text) > settings.max_message_chars:
            await self._reply(
                turn,
                f"That message is very long ({len(text):,} characters). Please send a shorter "
                f"description (under {settings.max_message_chars:,} characters), or ask me to open a ticket.",
            )
            return "too_long", "router"
        if turn.thread_key and await self._thread_reply(turn):
            return "thread_reply", turn.thread_key.partition(":")[0]
        turn.parse = await parse_request(self.nlu(), text, settings.nlu_max_chars)
        intent, confidence = _top(turn.parse)
        state = await self.services.conversations.load(turn)
        pending = state.pending or {}
        previous = state.last_text if _recent(state.updated_at) else ""
        await self.services.conversations.save(turn, last_text=text[:2000])

        if pending.get("kind") == "confirm":
            if intent in ("affirm", "deny") and confidence >= settings.nlu_threshold:
                await self._confirm(turn, pending, intent == "affirm")
                return intent, pending["skill"]
            await self.services.conversations.save(turn, pending={})
        elif pending.get("kind") == "slot":
            if intent == "deny" and confidence >= settings.nlu_threshold:
                await self.services.conversations.save(turn, pending={})
                await self._reply(turn, "OK, I have dropped that. What else can I do for you?")
                return intent, "router"
            return pending["intent"], await self._fill_slot(turn, pending, text)

        if intent in ("affirm", "deny") and confidence >= settings.nlu_threshold:
            await self._reply(turn, "There is nothing waiting for a yes or no right now. What can I help with?")
            return intent, "router"
        if previous and await self._read_with(turn, previous):
            intent, confidence = _top(turn.parse)
        if not self._confident(turn.parse):
            await self._unsure(turn, state.misses)
            return intent or "none", "fallback"
        close = self._close_call(turn.parse)
        if close and self._guide_answers(turn) and any(self._guide_first(i) for i in close):
            return KB_INTENT, await self._answer_with_guide(turn, next(i for i in close if i != KB_INTENT))
        confirmed = next((i for i in close if self._confirmed(turn, i)), None)
        if confirmed is not None:  # a close call the signal reader settles: "an invoice from my mailbox"
            return confirmed, await self.start(turn, confirmed)
        if close:
            await self._clarify(turn, close)
            return "clarify", "router"
        if self._guide_first(intent or "") and self._guide_answers(turn):
            return KB_INTENT, await self._answer_with_guide(turn, intent or "")
        return intent, await self.start(turn, intent or "")

    def _confident(self, parse: ParseResult | None) -> bool:
        """The parse names an intent a skill handles, surely enough to act on."""
        intent, confidence = _top(parse or {})  # type: ignore[arg-type]
        return (intent is not None and intent != "out_of_scope" and intent in self.skills_by_intent
                and confidence >= self.services.settings.nlu_threshold)

    def _guide_first(self, intent: str) -> bool:
        """Whether ``intent`` is one to offer beside a guide when the message asks how or why (its
        declaration says ``guide_first``), or is the how-to intent itself."""
        if intent == KB_INTENT:
            return True
        skill = self.skills_by_intent.get(intent)
        declared = skill.intent(intent) if skill else None
        return declared is not None and declared.guide_first

    def _confirmed(self, turn: Turn, intent: str) -> bool:
        """The signal reader reads, in the same message, the kind of signal that confirms ``intent``."""
        skill = self.skills_by_intent.get(intent)
        declared = skill.intent(intent) if skill else None
        reader = self.services.signals()
        if declared is None or not declared.confirmed_by or reader is None:
            return False
        signal = reader.read(turn.text)
        return signal is not None and signal.label.kind == declared.confirmed_by

    def _guide_answers(self, turn: Turn) -> bool:
        """The message asks how or why ("how do i reset it myself", "why does it keep locking") and a guide
        surely answers it."""
        return (KB_INTENT in self.skills_by_intent and asks_how(turn.request)
                and self.services.kb.best_of(turn.request, turn.text) is not None)

    async def _answer_with_guide(self, turn: Turn, intent: str) -> str:
        """Answer with the guide; ``intent`` (when it is one to offer beside a guide) is a button under it."""
        offer = ({"offer": intent, "offer_label": self._label(intent, turn.parse)}
                 if intent and intent != KB_INTENT and self._guide_first(intent) else {})
        return await self.start(turn, KB_INTENT, offer)

    async def _read_with(self, turn: Turn, previous: str) -> bool:
        """Read a short follow-up ("sorry, I meant the other printer") together with the previous message.

        Only a message that starts like a correction or a continuation; True when together they are
        understood, and then the turn carries the joined text and its parse.
        """
        text = turn.text.strip()
        if len(text.split()) > FOLLOW_UP_WORDS or not _FOLLOW_UP.search(text):
            return False
        joined = f"{previous.strip()}\n{text}"
        parse = await parse_request(self.nlu(), joined, self.services.settings.nlu_max_chars)
        if not self._confident(parse):
            return False
        turn.text, turn.parse = joined, parse
        return True

    async def start(self, turn: Turn, intent: str, slots: dict[str, Any] | None = None) -> str:
        """Start ``intent`` for this turn: check the role, fill slots from entities, call the skill."""
        skill = self.skills_by_intent.get(intent)
        if skill is None:
            await self._unsure(turn, 0)
            return "fallback"
        declared = skill.intent(intent)
        assert turn.employee is not None and declared is not None
        if not skill.allows(turn.employee, intent):
            await self.services.audit.record(turn.email, f"{skill.name}.{intent}", outcome="refused",
                                        detail="requires the technician role")
            await self._reply(turn, f"Sorry, only technicians can do that ({self._label(intent, None)}).")
            return skill.name
        filled = dict(slots or {})
        for entity in (turn.parse or {}).get("entities", []):
            for slot in declared.slots:
                if slot.entity == entity["entity"] and slot.name not in filled:
                    filled[slot.name] = entity["value"]
        await self.services.conversations.save(turn, pending={}, last_intent=intent, misses=0)
        if declared.is_request:
            await self.services.outcomes.begin(turn, skill.name, intent)
        await self._run(turn, skill, intent, filled)
        return skill.name

    async def _run(self, turn: Turn, skill: Skill, intent: str, slots: dict[str, Any]) -> None:
        declared = skill.intent(intent)
        ctx = Context(self.services, self, turn, skill, intent, slots)
        for slot in declared.slots if declared else ():
            if slot.required and slot.name not in slots:
                await self.ask(ctx, slot.name, slot.question, choices=slot.choices)
                return
        await guard(ctx, skill.handle(turn, ctx))

    async def _fill_slot(self, turn: Turn, pending: dict[str, Any], text: str) -> str:
        skill = self.skills_by_name.get(pending["skill"])
        if skill is None:
            await self.services.conversations.save(turn, pending={})
            return "router"
        slots = dict(pending.get("slots", {}))
        name = pending["awaiting"]
        declared = skill.intent(pending["intent"])
        slot = next((s for s in declared.slots if s.name == name), None) if declared else None
        value: Any = text
        if slot is not None and slot.entity:
            match = [e for e in (turn.parse or {}).get("entities", []) if e["entity"] == slot.entity]
            value = match[0]["value"] if match else text
        slots[name] = value
        await self.services.conversations.save(turn, pending={})
        await self._run(turn, skill, pending["intent"], slots)
        return skill.name

    async def ask(
        self,
        ctx: Context,
        slot: str,
        question: str,
        *,
        choices: tuple[tuple[str, str], ...] = (),
        private: bool = False,
    ) -> None:
        """Remember that ``ctx.skill`` waits for ``slot`` and ask for it."""
        await self.services.conversations.save(
            ctx.turn,
            pending={"kind": "slot", "skill": ctx.skill.name, "intent": ctx.intent, "awaiting": slot,
                     "slots": ctx.slots},
        )
        buttons = tuple(Button(encode_action(Choose(slot, value)), label) for value, label in choices)
        await ctx.reply(question, buttons=buttons, private=private)

    def available(self, employee: Employee) -> list[Skill]:
        """The skills ``employee`` may use that have something to say about themselves (for help)."""
        return [skill for skill in self.skills if skill.summary and skill.allows(employee)]

    async def _thread_reply(self, turn: Turn) -> bool:
        """A reply under a keyed bot message (``turn.thread_key``, ``"<skill>:..."``) goes to that skill's
        ``on_thread_reply``."""
        owner = self.skills_by_name.get((turn.thread_key or "").partition(":")[0])
        if owner is None:
            return False
        ctx = Context(self.services, self, turn, owner)
        handled = False

        async def reply() -> None:
            nonlocal handled
            handled = await owner.on_thread_reply(turn, ctx, turn.thread_key or "")

        await guard(ctx, reply())
        return handled

    # Clicks -----------------------------------------------------------------

    async def _click(self, turn: Turn) -> str:
        action = decode_action(turn.action or "")
        if isinstance(action, Decide):
            await self._decide(turn, action.approval, action.verdict == "approve")
            return "approvals"
        elif isinstance(action, StartIntent):
            state = await self.services.conversations.load(turn)
            saved = state.pending if state.pending.get("kind") == "clarify" else {}
            if saved:
                turn.text = saved.get("text", "")
                turn.parse = saved.get("parse")
            return await self.start(turn, action.intent, saved.get("slots"))
        elif isinstance(action, Answer):
            state = await self.services.conversations.load(turn)
            if state.pending.get("kind") == "confirm" and state.pending.get("nonce") == action.nonce:
                await self._confirm(turn, state.pending, action.yes)
                return str(state.pending["skill"])
            await self._reply(turn, "That question is no longer open, so nothing was done.")
            return "router"
        elif isinstance(action, Choose):
            state = await self.services.conversations.load(turn)
            if state.pending.get("kind") == "slot" and state.pending.get("awaiting") == action.slot:
                return await self._fill_slot(turn, state.pending, action.value)
            await self._reply(turn, "That question is no longer open. What can I help with?")
            return "router"
        elif isinstance(action, SkillClick):
            skill = self.skills_by_name.get(action.skill)
            if skill is not None:
                ctx = Context(self.services, self, turn, skill)
                await guard(ctx, skill.on_click(turn, ctx, action.action, action.argument))
                return skill.name
        log.warning("unknown button id %r", (turn.action or "")[:100])
        await self._reply(turn, "I did not recognise that button. It may be from an old message.")
        return "router"

    async def _decide(self, turn: Turn, approval_id: int, approve: bool) -> None:
        """Approve or deny, with the same guard as a skill: a failure is told, never fatal to the session."""
        try:
            approval = await self.services.approval_desk.decide(turn, approval_id, approve)
            if approval is not None:
                await self._finish(approval, turn)
        except Exception:
            metrics.ERRORS.labels("approvals").inc()
            log.exception("deciding approval #%d failed", approval_id)
            await self._reply(turn, "Something went wrong on my side while recording that decision, and the IT "
                                    "team can see the error. Please try again in a moment.")

    async def _confirm(self, turn: Turn, pending: dict[str, Any], yes: bool) -> None:
        await self.services.conversations.save(turn, pending={})
        skill = self.skills_by_name.get(pending["skill"])
        if skill is None:
            return
        ctx = Context(self.services, self, turn, skill)
        await guard(ctx, skill.on_confirm(turn, ctx, pending["action"], pending.get("data", {}), yes))

    # Fallback ---------------------------------------------------------------

    def _close_call(self, parse: ParseResult) -> list[str]:
        """The top two intents when they are too close to choose between, else []."""
        ranking = [r for r in parse.get("intent_ranking", []) if r["name"] not in ROUTER_INTENTS]
        if len(ranking) < 2 or parse["intent"]["name"] in ROUTER_INTENTS:
            return []
        first, second = ranking[0], ranking[1]
        margin = self.services.settings.nlu_ambiguity_margin
        if first["confidence"] - second["confidence"] < margin and second["name"] in self.skills_by_intent:
            return [first["name"], second["name"]]
        return []

    def _label(self, intent: str, parse: ParseResult | None) -> str:
        """How a button offering ``intent`` reads, about the system the message named, if any."""
        skill = self.skills_by_intent.get(intent)
        declared = skill.intent(intent) if skill else None
        system = next((str(e["value"]) for e in (parse or {}).get("entities", []) if e["entity"] == "system"), None)
        return declared.offer_label(system) if declared else intent

    async def _clarify(self, turn: Turn, options: list[str]) -> None:
        allowed = [i for i in options if self.skills_by_intent[i].allows(turn.employee, i)]  # type: ignore[arg-type]
        if len(allowed) == 1:
            await self.start(turn, allowed[0])
            return
        await self.services.conversations.save(
            turn, pending={"kind": "clarify", "text": turn.text, "parse": turn.parse, "options": allowed,
                           "slots": {"summary": turn.text[:200]}}
        )
        buttons: list[Button] = []
        for intent in allowed:
            guides = self._article_buttons(turn.request) if intent == KB_INTENT else []
            buttons += guides or [Button(encode_action(StartIntent(intent)), self._label(intent, turn.parse))]
        buttons.append(Button(encode_action(StartIntent(PERSON_INTENT)), self._label(PERSON_INTENT, None)))
        await self._reply(turn, "I want to be sure I get this right. Which did you mean?", tuple(buttons))

    def _readings(self, turn: Turn) -> list[str]:
        """The likeliest intents of an unclear message that this person may start, best first."""
        assert turn.employee is not None
        floor = self.services.settings.nlu_offer_floor
        readings: list[str] = []
        for scored in (turn.parse or {}).get("intent_ranking", []):
            skill = self.skills_by_intent.get(scored["name"])
            declared = skill.intent(scored["name"]) if skill else None
            if (declared is None or not declared.offered or scored["confidence"] < floor
                    or scored["name"] in (KB_INTENT, TICKET_INTENT, PERSON_INTENT)
                    or not skill.allows(turn.employee, scored["name"])):  # type: ignore[union-attr]
                continue
            readings.append(scored["name"])
        return readings[:READINGS_OFFERED]

    async def _unsure(self, turn: Turn, misses: int) -> None:
        """A message the NLU is not sure of. Never a dead end: a likely guide is answered; otherwise the
        likeliest readings and the nearest guides are offered, always with a ticket and a person."""
        settings = self.services.settings
        readings = self._readings(turn)
        top_reading = next((float(r["confidence"]) for r in (turn.parse or {}).get("intent_ranking", [])
                            if readings and r["name"] == readings[0]), 0.0)
        if readings and top_reading >= settings.nlu_offer_over_guide and self._guide_first(readings[0]) \
                and self._guide_answers(turn):
            await self._answer_with_guide(turn, readings[0])  # "why does it keep locking": guide, unlock beside
            return
        if readings and self._confirmed(turn, readings[0]):
            await self.start(turn, readings[0])
            return
        if KB_INTENT in self.skills_by_intent and top_reading < settings.nlu_offer_over_guide \
                and self.services.kb.best_of(turn.request, turn.text) is not None:
            await self.start(turn, KB_INTENT)
            return
        misses += 1
        await self.services.conversations.save(
            turn, misses=misses,
            pending={"kind": "clarify", "text": turn.text, "parse": turn.parse, "options": readings,
                     "slots": {"summary": turn.text[:200]}},
        )
        buttons = [Button(encode_action(StartIntent(i)), self._label(i, turn.parse)) for i in readings]
        buttons += self._article_buttons(turn.request)
        buttons += [Button(encode_action(StartIntent(TICKET_INTENT)), "Open a ticket"),
                    Button(encode_action(StartIntent(PERSON_INTENT)), self._label(PERSON_INTENT, None))]
        intent, confidence = _top(turn.parse or {})  # type: ignore[arg-type]
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

    def _article_buttons(self, text: str) -> list[Button]:
        """Buttons that show the guides nearest to ``text`` (those worth offering)."""
        skill = self.skills_by_intent.get(KB_INTENT)
        if skill is None:
            return []
        hits = self.services.kb.search(text, limit=ARTICLES_OFFERED)
        return [Button(encode_action(SkillClick(skill.name, "article", str(hit.article.id))), hit.article.title)
                for hit in hits if hit.confidence >= self.services.settings.kb_offer_confidence]

    # Approvals --------------------------------------------------------------

    async def expire_approvals(self) -> int:
        """Expire overdue approvals, update their cards and tell the requesters. Returns how many."""
        expired = await self.services.approval_desk.expire_due()
        for approval in expired:
            await self._finish(approval, None)
        return len(expired)

    async def _finish(self, approval: Approval, origin: Turn | None) -> None:
        """Show the decision on the card, then resume the skill that asked, for its requester."""
        requester_turn = await self.services.approval_desk.finish(approval, origin)
        skill = self.skills_by_name.get(approval.skill)
        if skill is None:
            return
        ctx = Context(self.services, self, requester_turn, skill)
        await guard(ctx, skill.on_approval(ctx, approval))

    async def _reply(self, turn: Turn, text: str, buttons: tuple[Button, ...] = ()) -> None:
        await self.services.delivery.deliver(Reply(text, buttons), origin=turn)


def _recent(updated_at: datetime | None) -> bool:
    """True when the conversation's last message is recent enough for a follow-up to refer to it."""
    if updated_at is None:
        return False
    aware = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
    return utcnow() - aware <= FOLLOW_UP_WINDOW


def _top(parse: ParseResult) -> tuple[str | None, float]:
    intent = parse.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)
