"""The loaded skills, found by the intents they handle, by name, and by their part in the fallback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from bot.core.parse import ParseResult, entities_of
from bot.engine.skill import Fallback, Intent, Skill
from bot.nlu.signals import SignalKind

__all__ = ["SkillRegistry"]


class SkillRegistry:
    """Looks skills and their intents' declarations up; the engine names no intent, it asks this."""

    def __init__(self, skills: Sequence[Skill]) -> None:
        self.skills = list(skills)
        self.by_intent: dict[str, Skill] = {intent.name: skill for skill in skills for intent in skill.intents}
        self.by_name: dict[str, Skill] = {skill.name: skill for skill in skills}

    def declared(self, intent: str) -> Intent | None:
        """The declaration of ``intent``, if a loaded skill handles it."""
        skill = self.by_intent.get(intent)
        return skill.intent(intent) if skill else None

    def fallback(self, part: Fallback) -> str | None:
        """The intent that declares ``part`` in the fallback (``Fallback.GUIDES``: the how-to intent), if any."""
        return next((intent.name for skill in self.skills for intent in skill.intents if part in intent.fallback),
                    None)

    def signalled(self) -> list[Intent]:
        """The intents a kind of signal of the signal reader confirms by itself (``Intent.confirmed_by`` a kind of
        signal, nothing more asked of the words): the security report, an urgent ticket."""
        return [intent for skill in self.skills for intent in skill.intents
                if intent.confirmed_by in get_args(SignalKind) and intent.confirmed_with is None]

    def label(self, intent: str, parse: ParseResult | None) -> str:
        """How a button offering ``intent`` reads, about the system the message named, if any."""
        declared = self.declared(intent)
        system = next((str(e["value"]) for e in entities_of(parse) if e["entity"] == "system"), None)
        return declared.offer_label(system) if declared else intent

    def fallback_label(self, intent: str) -> str:
        """How ``intent``'s button reads among the fallback's offers."""
        declared = self.declared(intent)
        return (declared.fallback_label if declared else "") or self.label(intent, None)
