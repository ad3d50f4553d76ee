"""The suggested first messages a person is offered, drawn from the skills they may use.

Slack's agent panel shows them as suggested prompts (at most four), and the
Teams app package lists them as prompt starters; each skill declares its own
(``Skill.prompts``), so the channels know no skill by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.messages import Employee
from bot.engine.skill import Prompt, Skill

__all__ = ["prompts_for"]


def prompts_for(skills: Iterable[Skill], employee: Employee | None, limit: int | None = None) -> list[Prompt]:
    """The prompts ``employee`` may use, lowest ``rank`` first, at most ``limit``.

    With no employee (a list for everyone, such as an app package), only what every employee may use.
    """
    allowed = [
        prompt for skill in skills for prompt in skill.prompts
        if (intent := skill.intent(prompt.intent)) is not None
        and (intent.role == "employee" or (employee is not None and employee.is_technician))
    ]
    allowed.sort(key=lambda prompt: prompt.rank)
    return allowed[:limit] if limit is not None else allowed
