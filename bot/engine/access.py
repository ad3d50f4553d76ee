"""The filters an intent passes before its skill starts: a skill handles it, and this person may use it.

Access control is one filter step here (errbot's idea), not code inside the dispatcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.messages import Reply, Turn
from bot.engine.chain import Next
from bot.engine.context import Services
from bot.engine.fallback import Fallbacks
from bot.engine.registry import SkillRegistry
from bot.engine.skill import Role

__all__ = ["IntentStart", "StartFilters"]

_WHO: dict[Role, str] = {"employee": "employees", "technician": "technicians",
                         "manager": "the IT managers"}


@dataclass
class IntentStart:
    """A request to start ``intent`` for ``turn``, with ``slots`` already filled."""

    turn: Turn
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)


class StartFilters:
    """The steps every start of an intent passes; each answers the name of the skill (or step) that ran."""

    def __init__(self, skills: SkillRegistry, services: Services, fallbacks: Fallbacks) -> None:
        self.skills = skills
        self.services = services
        self.fallbacks = fallbacks

    async def known_intent(self, start: IntentStart, call_next: Next[str]) -> str:
        """An intent no skill handles gets the fallback's offers instead."""
        if start.intent not in self.skills.by_intent:
            await self.fallbacks.unsure(start.turn, 0)
            return "fallback"
        return await call_next()

    async def role_check(self, start: IntentStart, call_next: Next[str]) -> str:
        """Only a person with the role the intent requires may start it; a refusal is audited and told."""
        turn, intent = start.turn, start.intent
        skill = self.skills.by_intent[intent]
        assert turn.employee is not None
        declared = skill.intent(intent)
        if declared is not None and not skill.allows(turn.employee, intent):
            await self.services.audit.record(turn.email, f"{skill.name}.{intent}", outcome="refused",
                                             detail=f"requires the {declared.role} role")
            text = f"Sorry, only {_WHO[declared.role]} can do that ({self.skills.label(intent, None)})."
            await self.services.delivery.deliver(Reply(text), origin=turn)
            return skill.name
        return await call_next()
