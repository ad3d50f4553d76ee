"""The router: one turn in, the right skill (or pending step) called.

A turn passes a chain of small steps (``bot.engine.chain``): the intake (clean, drop duplicates,
count), then a click is answered here, and a message passes the steps of
``bot.engine.message_steps`` (length, thread, NLU, pending state, fallback, close call, guide) and
ends in ``start``, whose own steps (``bot.engine.access``) check that a skill handles the intent
and that this person may use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.core import metrics
from bot.core.action import Answer, Choose, Decide, SkillClick, StartIntent, decode_action, encode_action
from bot.core.messages import Button, Employee, Reply, Turn
from bot.core.parse import Parser, entities_of
from bot.core.pending import ClarifyPending, ConfirmPending, Pending, SlotPending, decode_pending
from bot.engine.access import IntentStart, StartFilters
from bot.engine.chain import Step, run_chain
from bot.engine.context import Context, Services
from bot.engine.fallback import Fallbacks
from bot.engine.guard import guard
from bot.engine.intake import Arrival, Intake
from bot.engine.message_steps import Message, MessageSteps, Routed
from bot.engine.registry import SkillRegistry
from bot.engine.skill import Skill
from bot.engine.understanding import Understanding
from bot.store import Approval

__all__ = ["Router"]

log = logging.getLogger(__name__)


class Router:
    """Routes turns to skills. It holds no state of its own: state is in the database."""

    def __init__(self, skills: list[Skill], services: Services, nlu: Callable[[], Parser]) -> None:
        """``nlu`` gives the parser once the app has trained it."""
        self.skills = skills
        self.services = services
        self.registry = SkillRegistry(skills)
        self.skills_by_intent = self.registry.by_intent
        self.skills_by_name = self.registry.by_name
        understanding = self.understanding = Understanding(self.registry, services, nlu, self.start, self.show)
        fallbacks = Fallbacks(self.registry, services, understanding, self.start)
        self.messages = MessageSteps(self.registry, services, nlu, understanding, fallbacks, self)
        self.intake = Intake(services)
        filters = StartFilters(self.registry, services, fallbacks)
        self.start_steps: tuple[Step[IntentStart, str], ...] = (filters.known_intent, filters.role_check)

    async def handle(self, turn: Turn, *, deduplicated: bool = False) -> None:
        """Handle one turn from a channel. Its employee must already be resolved.

        A turn with an ``event_id`` runs once (a ``processed_event`` row), unless ``deduplicated``
        says the channel's inbox has already seen to that. Its text and ids are cleaned first; a turn
        that cannot be cleaned is refused.
        """
        await run_chain(self.intake.chain(), Arrival(turn, deduplicated), self._route)

    async def _route(self, arrival: Arrival) -> Routed:
        turn = arrival.turn
        if turn.is_click:
            return "click", await self._click(turn)
        message = Message(turn, turn.text.strip())
        return await run_chain(self.messages.chain(), message, self.messages.start_intent)

    async def start(self, turn: Turn, intent: str, slots: dict[str, Any] | None = None) -> str:
        """Start ``intent`` for this turn: pass the start filters, fill slots from entities, call the skill."""
        return await run_chain(self.start_steps, IntentStart(turn, intent, dict(slots or {})), self._begin)

    async def show(self, turn: Turn, intent: str, slots: dict[str, Any] | None = None) -> str:
        """Run ``intent``'s skill for this turn beside the intent the turn is about (a guide shown before a
        ticket preview): no access filters, and the conversation's state and outcome are left to that intent."""
        skill = self.skills_by_intent[intent]
        await self._run(turn, skill, intent, dict(slots or {}))
        return skill.name

    async def show_guide(self, turn: Turn, about: str = "") -> bool:
        """Show the guide that surely covers ``turn``'s message, beside what the turn goes on to do."""
        return await self.understanding.show_guide(turn, about)

    async def _begin(self, start: IntentStart) -> str:
        turn, intent, filled = start.turn, start.intent, start.slots
        skill = self.skills_by_intent[intent]
        declared = skill.intent(intent)
        assert declared is not None
        for entity in entities_of(turn.parse):
            for slot in declared.slots:
                if slot.entity == entity["entity"] and slot.name not in filled:
                    filled[slot.name] = entity["value"]
        await self.services.conversations.save(turn, pending=None, last_intent=intent, misses=0)
        if declared.is_request:
            await self.services.outcomes.begin(turn, skill.name, intent)
        await self._run(turn, skill, intent, filled)
        return skill.name

    async def _run(self, turn: Turn, skill: Skill, intent: str | None, slots: dict[str, Any]) -> None:
        declared = skill.intent(intent) if intent is not None else None
        ctx = Context(self.services, self, turn, skill, intent, slots)
        for slot in declared.slots if declared else ():
            if slot.required and slot.name not in slots:
                await self.ask(ctx, slot.name, slot.question, choices=slot.choices)
                return
        await guard(ctx, skill.handle(turn, ctx))

    async def fill_slot(self, turn: Turn, pending: SlotPending, value: str) -> str:
        """Fill the slot the conversation waits for with ``value`` (or the entity it names) and go on."""
        skill = self.skills_by_name.get(pending.skill)
        if skill is None:
            await self.services.conversations.save(turn, pending=None)
            return "router"
        slots = dict(pending.slots)
        name = pending.awaiting
        declared = skill.intent(pending.intent) if pending.intent is not None else None
        slot = next((s for s in declared.slots if s.name == name), None) if declared else None
        answer: Any = value
        if slot is not None and slot.entity:
            match = [e for e in entities_of(turn.parse) if e["entity"] == slot.entity]
            answer = match[0]["value"] if match else value
        slots[name] = answer
        await self.services.conversations.save(turn, pending=None)
        await self._run(turn, skill, pending.intent, slots)
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
            ctx.turn, pending=SlotPending(ctx.skill.name, ctx.intent, slot, ctx.slots),
        )
        buttons = tuple(Button(encode_action(Choose(slot, value)), label) for value, label in choices)
        await ctx.reply(question, buttons=buttons, private=private)

    def available(self, employee: Employee) -> list[Skill]:
        """The skills ``employee`` may use that have something to say about themselves (for help)."""
        return [skill for skill in self.skills if skill.summary and skill.allows(employee)]

    # Clicks -----------------------------------------------------------------

    async def _click(self, turn: Turn) -> str:
        action = decode_action(turn.action or "")
        if isinstance(action, Decide):
            await self._decide(turn, action.approval, action.verdict == "approve")
            return "approvals"
        elif isinstance(action, StartIntent):
            saved = await self._pending(turn)
            if isinstance(saved, ClarifyPending):
                turn.text, turn.parse = saved.text, saved.parse
            return await self.start(turn, action.intent, saved.slots if isinstance(saved, ClarifyPending) else None)
        elif isinstance(action, Answer):
            pending = await self._pending(turn)
            if isinstance(pending, ConfirmPending) and pending.nonce == action.nonce:
                await self.confirm(turn, pending, action.yes)
                return pending.skill
            await self._reply(turn, "That question is no longer open, so nothing was done.")
            return "router"
        elif isinstance(action, Choose):
            pending = await self._pending(turn)
            if isinstance(pending, SlotPending) and pending.awaiting == action.slot:
                return await self.fill_slot(turn, pending, action.value)
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

    async def confirm(self, turn: Turn, pending: ConfirmPending, yes: bool) -> None:
        """Give the answer to a yes-or-no question to the skill that asked it."""
        await self.services.conversations.save(turn, pending=None)
        skill = self.skills_by_name.get(pending.skill)
        if skill is None:
            return
        ctx = Context(self.services, self, turn, skill)
        await guard(ctx, skill.on_confirm(turn, ctx, pending.action, pending.data, yes))

    async def more(self, turn: Turn, pending: ConfirmPending) -> bool:
        """Give a message that adds to a pending yes-or-no question to the skill that asked it; True when taken."""
        skill = self.skills_by_name.get(pending.skill)
        if skill is None:
            return False
        ctx = Context(self.services, self, turn, skill)
        taken = False

        async def offer() -> None:
            nonlocal taken
            taken = await skill.on_more(turn, ctx, pending.action, pending.data)

        await guard(ctx, offer())
        return taken

    async def _pending(self, turn: Turn) -> Pending | None:
        """What the turn's conversation waits for, if anything."""
        return decode_pending((await self.services.conversations.load(turn)).pending)

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
