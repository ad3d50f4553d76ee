"""The suggested prompts: drawn from the skills a person may use, and each one means what it says."""

from __future__ import annotations

import pytest

from bot.core.errors import ConfigError
from bot.core.messages import Employee
from bot.engine.prompts import prompts_for
from bot.engine.skill import Intent, Prompt, Skill, check_intents, load_skills
from bot.nlu import EmbeddedParser

EMPLOYEE = Employee("ann@city.example", "Ann")
TECHNICIAN = Employee("tom@city.example", "Tom", is_technician=True)


def test_an_employee_gets_the_four_everyday_prompts() -> None:
    """Reset my password, Is email down?, How do I …, My tickets: and no technician prompt."""
    titles = [p.title for p in prompts_for(load_skills(), EMPLOYEE, 4)]
    assert titles == ["Reset my password", "Is email down?", "How do I …", "My tickets"]
    assert "Announce an outage" not in [p.title for p in prompts_for(load_skills(), EMPLOYEE)]


def test_a_technician_gets_their_own_prompt_first() -> None:
    assert [p.title for p in prompts_for(load_skills(), TECHNICIAN, 4)][0] == "Announce an outage"


def test_every_prompt_is_read_as_its_intent(parser: EmbeddedParser) -> None:
    """Clicking a prompt sends its message: the NLU must read it as the intent the prompt names."""
    prompts = prompts_for(load_skills(), TECHNICIAN)
    assert len(prompts) >= 8
    for prompt in prompts:
        intent = parser.parse_text(prompt.message)["intent"]["name"]
        assert intent == prompt.intent, (prompt.message, intent)


def test_a_prompt_for_another_skills_intent_is_refused() -> None:
    class Stray(Skill):
        name = "stray"
        intents = (Intent("greet"),)
        prompts = (Prompt("Reset", "reset my password", "reset_password", "Not this skill's", 1),)

    with pytest.raises(ConfigError, match="prompt 'Reset' of skill stray names none of its intents"):
        check_intents([Stray()], ["greet"])
