"""The router: one turn in, the right skill (or pending step) called.

Order of business for a turn: drop duplicates, answer clicks, then parse the
text and either feed the pending step (a slot, a yes/no) or pick a skill by
intent, with a fallback that clarifies close calls and offers a human after
two misses in a row.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.context import Context
from bot.errors import IntegrationError, PermissionDenied, UserFacingError
from bot.messages import Button, Employee, Reply, Turn
from bot.nlu import ParseResult
from bot.skill import ROUTER_INTENTS, Skill

if TYPE_CHECKING:
    from bot.app import Bot

__all__ = ["Router", "lead"]

log = logging.getLogger(__name__)

MISSES_BEFORE_HUMAN = 2
INTENT_LABELS = {
    "reset_password": "Reset my password",
    "unlock_account": "Unlock my account",
    "open_ticket": "Open a ticket",
    "ticket_status": "Check on a ticket",
    "howto": "A how-to question",
    "outage_status": "Is something down?",
    "report_phishing": "Report a suspicious email",
    "announce": "Send an announcement",
    "human_handoff": "Talk to a person",
    "help": "What can you do?",
    "greet": "Just saying hello",
    "goodbye": "Goodbye",
    "thanks": "Thanks",
}


class Router:
    """Routes turns to skills. It holds no state of its own: state is in the database."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.skills_by_intent: dict[str, Skill] = {
            intent.name: skill for skill in bot.skills for intent in skill.intents
        }
        self.skills_by_name: dict[str, Skill] = {skill.name: skill for skill in bot.skills}

    async def handle(self, turn: Turn) -> None:
        """Handle one turn. Its employee must already be resolved."""
        if turn.event_id and not await self.bot.conversations.first_time(turn.channel, turn.event_id):
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
        settings = self.bot.settings
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
        turn.parse = await self.bot.nlu.parse(lead(text, settings.nlu_max_chars))
        intent, confidence = _top(turn.parse)
        state = await self.bot.conversations.load(turn)
        pending = state.pending or {}

        if pending.get("kind") == "confirm":
            if intent in ("affirm", "deny") and confidence >= settings.nlu_threshold:
                await self._confirm(turn, pending, intent == "affirm")
                return intent, pending["skill"]
            await self.bot.conversations.save(turn, pending={})
        elif pending.get("kind") == "slot":
            if intent == "deny" and confidence >= settings.nlu_threshold:
                await self.bot.conversations.save(turn, pending={})
                await self._reply(turn, "OK, I have dropped that. What else can I do for you?")
                return intent, "router"
            return pending["intent"], await self._fill_slot(turn, pending, text)

        if intent in ("affirm", "deny") and confidence >= settings.nlu_threshold:
            await self._reply(turn, "There is nothing waiting for a yes or no right now. What can I help with?")
            return intent, "router"
        if intent == "out_of_scope" or intent is None or confidence < settings.nlu_threshold:
            await self._miss(turn, state.misses)
            return intent or "none", "fallback"
        close = self._close_call(turn.parse)
        if close:
            await self._clarify(turn, close)
            return "clarify", "router"
        return intent, await self.start(turn, intent)

    async def start(self, turn: Turn, intent: str, slots: dict[str, Any] | None = None) -> str:
        """Start ``intent`` for this turn: check the role, fill slots from entities, call the skill."""
        skill = self.skills_by_intent.get(intent)
        if skill is None:
            await self._miss(turn, 0)
            return "fallback"
        declared = skill.intent(intent)
        assert turn.employee is not None and declared is not None
        if not skill.allows(turn.employee, intent):
            await self.bot.audit.record(turn.email, f"{skill.name}.{intent}", outcome="refused",
                                        detail="requires the technician role")
            await self._reply(turn, f"Sorry, only technicians can do that ({INTENT_LABELS.get(intent, intent)}).")
            return skill.name
        filled = dict(slots or {})
        for entity in (turn.parse or {}).get("entities", []):
            for slot in declared.slots:
                if slot.entity == entity["entity"] and slot.name not in filled:
                    filled[slot.name] = entity["value"]
        await self.bot.conversations.save(turn, pending={}, last_intent=intent, misses=0)
        await self._run(turn, skill, intent, filled)
        return skill.name

    async def _run(self, turn: Turn, skill: Skill, intent: str, slots: dict[str, Any]) -> None:
        declared = skill.intent(intent)
        ctx = Context(self.bot, turn, skill, intent, slots)
        for slot in declared.slots if declared else ():
            if slot.required and slot.name not in slots:
                await self.ask(ctx, slot.name, slot.question, choices=slot.choices)
                return
        await self.guard(ctx, skill.handle(turn, ctx))

    async def _fill_slot(self, turn: Turn, pending: dict[str, Any], text: str) -> str:
        skill = self.skills_by_name.get(pending["skill"])
        if skill is None:
            await self.bot.conversations.save(turn, pending={})
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
        await self.bot.conversations.save(turn, pending={})
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
        await self.bot.conversations.save(
            ctx.turn,
            pending={"kind": "slot", "skill": ctx.skill.name, "intent": ctx.intent, "awaiting": slot,
                     "slots": ctx.slots},
        )
        buttons = tuple(Button(f"slot:{slot}:{value}", label) for value, label in choices)
        await ctx.reply(question, buttons=buttons, private=private)

    def available(self, employee: Employee) -> list[Skill]:
        """The skills ``employee`` may use that have something to say about themselves (for help)."""
        return [skill for skill in self.bot.skills if skill.summary and skill.allows(employee)]

    async def _thread_reply(self, turn: Turn) -> bool:
        """A reply under a keyed bot message (``turn.thread_key``, ``"<skill>:..."``) goes to that skill's
        ``on_thread_reply``."""
        owner = self.skills_by_name.get((turn.thread_key or "").partition(":")[0])
        if owner is None:
            return False
        ctx = Context(self.bot, turn, owner)
        handled = False

        async def reply() -> None:
            nonlocal handled
            handled = await owner.on_thread_reply(turn, ctx, turn.thread_key or "")

        await self.guard(ctx, reply())
        return handled

    # Clicks -----------------------------------------------------------------

    async def _click(self, turn: Turn) -> str:
        kind, _, rest = (turn.action or "").partition(":")
        if kind == "approval":
            approval_id, _, verdict = rest.partition(":")
            if approval_id.isdigit() and verdict in ("approve", "deny"):
                await self.bot.decide_approval(turn, int(approval_id), verdict == "approve")
                return "approvals"
        elif kind == "intent":
            state = await self.bot.conversations.load(turn)
            saved = state.pending if state.pending.get("kind") == "clarify" else {}
            if saved:
                turn.text = saved.get("text", "")
                turn.parse = saved.get("parse")
            return await self.start(turn, rest, saved.get("slots"))
        elif kind == "confirm":
            nonce, _, answer = rest.partition(":")
            state = await self.bot.conversations.load(turn)
            if state.pending.get("kind") == "confirm" and state.pending.get("nonce") == nonce:
                await self._confirm(turn, state.pending, answer == "yes")
                return str(state.pending["skill"])
            await self._reply(turn, "That question is no longer open, so nothing was done.")
            return "router"
        elif kind == "slot":
            state = await self.bot.conversations.load(turn)
            name, _, value = rest.partition(":")
            if state.pending.get("kind") == "slot" and state.pending.get("awaiting") == name:
                return await self._fill_slot(turn, state.pending, value)
            await self._reply(turn, "That question is no longer open. What can I help with?")
            return "router"
        elif kind == "skill":
            skill_name, _, payload = rest.partition(":")
            action, _, argument = payload.partition(":")
            skill = self.skills_by_name.get(skill_name)
            if skill is not None:
                ctx = Context(self.bot, turn, skill)
                await self.guard(ctx, skill.on_click(turn, ctx, action, argument))
                return skill.name
        log.warning("unknown button id %r", (turn.action or "")[:100])
        await self._reply(turn, "I did not recognise that button. It may be from an old message.")
        return "router"

    async def _confirm(self, turn: Turn, pending: dict[str, Any], yes: bool) -> None:
        await self.bot.conversations.save(turn, pending={})
        skill = self.skills_by_name.get(pending["skill"])
        if skill is None:
            return
        ctx = Context(self.bot, turn, skill)
        await self.guard(ctx, skill.on_confirm(turn, ctx, pending["action"], pending.get("data", {}), yes))

    # Fallback ---------------------------------------------------------------

    def _close_call(self, parse: ParseResult) -> list[str]:
        """The top two intents when they are too close to choose between, else []."""
        ranking = [r for r in parse.get("intent_ranking", []) if r["name"] not in ROUTER_INTENTS]
        if len(ranking) < 2 or parse["intent"]["name"] in ROUTER_INTENTS:
            return []
        first, second = ranking[0], ranking[1]
        margin = self.bot.settings.nlu_ambiguity_margin
        if first["confidence"] - second["confidence"] < margin and second["name"] in self.skills_by_intent:
            return [first["name"], second["name"]]
        return []

    async def _clarify(self, turn: Turn, options: list[str]) -> None:
        allowed = [i for i in options if self.skills_by_intent[i].allows(turn.employee, i)]  # type: ignore[arg-type]
        if len(allowed) == 1:
            await self.start(turn, allowed[0])
            return
        await self.bot.conversations.save(
            turn, pending={"kind": "clarify", "text": turn.text, "parse": turn.parse, "options": allowed}
        )
        buttons = tuple(Button(f"intent:{i}", INTENT_LABELS.get(i, i)) for i in allowed)
        await self._reply(turn, "I want to be sure I get this right. Which did you mean?", buttons)

    async def _miss(self, turn: Turn, misses: int) -> None:
        misses += 1
        if misses >= MISSES_BEFORE_HUMAN:
            await self.bot.conversations.save(
                turn, misses=0,
                pending={"kind": "clarify", "text": turn.text, "parse": turn.parse,
                         "slots": {"summary": turn.text[:200]}},
            )
            await self._reply(
                turn,
                "Sorry, I still don't understand. I can open a ticket with what you wrote, "
                "or pass you to a technician.",
                (Button("intent:open_ticket", "Open a ticket"), Button("intent:human_handoff", "Talk to a person")),
            )
            return
        await self.bot.conversations.save(turn, misses=misses, pending={})
        assert turn.employee is not None
        offers = [f"• {s.summary}" for s in self.available(turn.employee)]
        await self._reply(
            turn,
            "Sorry, I didn't catch that. I'm the IT helpdesk bot, and I can help with:\n" + "\n".join(offers)
            + "\nTry saying it another way, like \"I forgot my password\".",
        )

    # Errors -----------------------------------------------------------------

    async def guard(self, ctx: Context, work: Any) -> None:
        """Run a skill's coroutine; turn our errors into messages, log and count the rest."""
        try:
            await work
        except PermissionDenied as exc:
            await ctx.audit.record(ctx.employee.email, f"{ctx.skill.name}.denied", outcome="refused",
                                   detail=str(exc))
            await ctx.reply(str(exc))
        except UserFacingError as exc:
            await ctx.reply(str(exc))
        except IntegrationError as exc:
            metrics.ERRORS.labels("integration").inc()
            log.warning("integration failed in skill %s: %s", ctx.skill.name, exc)
            await ctx.reply(
                f"{exc.system} is not answering right now, so I could not finish that. "
                "Nothing was changed. Please try again in a few minutes, or ask me to open a ticket."
            )
        except Exception:
            metrics.ERRORS.labels("skill").inc()
            log.exception("skill %s failed", ctx.skill.name)
            await ctx.reply("Something went wrong on my side, and the IT team can see the error. "
                            "Please try again, or ask for a person.")

    async def _reply(self, turn: Turn, text: str, buttons: tuple[Button, ...] = ()) -> None:
        await self.bot.deliver(Reply(text, buttons), origin=turn)


def lead(text: str, limit: int) -> str:
    """The part of a long message that says what it is about: its first line, or first sentences.

    Employees put the request first and paste logs or emails after it; parsing
    everything would drown the request.
    """
    if len(text) <= limit:
        return text
    first_line = text.strip().split("\n", 1)[0]
    if 0 < len(first_line) <= limit:
        return first_line
    cut = max(first_line.rfind(mark, 0, limit) for mark in (". ", "! ", "? "))
    return first_line[: cut + 1] if cut > 0 else first_line[:limit]


def _top(parse: ParseResult) -> tuple[str | None, float]:
    intent = parse.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)
