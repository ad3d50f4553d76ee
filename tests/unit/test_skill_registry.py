"""The skill registry: skills found by importing the package, and the start-up check of intents."""

from __future__ import annotations

from typing import ClassVar

import pytest

from bot.core.errors import ConfigError
from bot.core.messages import Button, Employee
from bot.core.settings import PROJECT_ROOT
from bot.engine.skill import ROUTER_INTENTS, Intent, Skill, check_intents, load_skills
from bot.nlu import load_training_data


class Extra(Skill):
    """A made-up skill for the error cases (not in the ``skills`` package)."""

    name = "extra"
    intents: ClassVar[tuple[Intent, ...]] = (Intent("greet"),)


def _skill(name: str, *intents: str) -> Skill:
    """A skill named ``name`` that handles ``intents``."""
    cls = type(name.title(), (Skill,), {"name": name, "intents": tuple(Intent(i) for i in intents)})
    return cls()


def _project_intents() -> list[str]:
    return load_training_data(PROJECT_ROOT / "intents").intents


def _problem(skills: list[Skill], intents: list[str]) -> str:
    """The message of the ConfigError that ``check_intents`` raises; it must be one line."""
    with pytest.raises(ConfigError) as caught:
        check_intents(skills, intents)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_load_skills_finds_the_seven_skills() -> None:
    """Importing the ``skills`` package registers one instance of each skill, sorted by module."""
    skills = load_skills()
    assert [skill.name for skill in skills] == ["accounts", "howto", "notices", "reports", "security", "smalltalk",
                                                "tickets"]
    assert all(isinstance(skill, Skill) and skill.intents for skill in skills)
    assert len({type(skill) for skill in skills}) == 7


def test_every_project_intent_has_exactly_one_skill() -> None:
    """The real intents/ data and the real skills match: each intent once, none missing, none extra."""
    skills = load_skills()
    intents = _project_intents()
    check_intents(skills, intents)
    owners: dict[str, list[str]] = {}
    for skill in skills:
        for intent in skill.intents:
            owners.setdefault(intent.name, []).append(skill.name)
    assert set(owners) | ROUTER_INTENTS == set(intents)
    assert all(len(who) == 1 for who in owners.values())
    assert not set(owners) & ROUTER_INTENTS


def test_router_intents_are_in_the_data() -> None:
    """Yes, no and out-of-scope are trained, since the router relies on them."""
    assert ROUTER_INTENTS <= set(_project_intents())


def test_intent_with_no_skill_is_named() -> None:
    """An intent in the data that no skill handles fails the check."""
    message = _problem([_skill("a", "greet")], ["greet", "order_pizza", "affirm"])
    assert "order_pizza has no skill" in message
    assert "greet" not in message.split(":", 1)[1]


def test_intent_with_two_skills_is_named() -> None:
    """Two skills claiming one intent fails the check and names both."""
    message = _problem(load_skills() + [Extra()], _project_intents())
    assert "greet is handled by" in message
    assert "smalltalk" in message and "extra" in message


def test_skill_intent_missing_from_the_data_is_named() -> None:
    """A skill intent with no training examples fails the check and names the skill."""
    message = _problem([_skill("a", "greet", "order_pizza")], ["greet"])
    assert "order_pizza (skill a) is not in the training data" in message


def test_skill_claiming_a_router_intent_is_named() -> None:
    """A skill may not take yes, no or the fallback from the router."""
    message = _problem([_skill("a", "greet", "affirm")], ["greet", "affirm"])
    assert "affirm is the router's own intent" in message


def test_quick_action_for_another_skills_intent_is_named() -> None:
    """A home-screen button may start only an intent of the skill that offers it."""
    skill = _skill("a", "greet")
    type(skill).quick_actions = (Button("intent:open_ticket", "Open a ticket"), Button("skill:a:wave:", "Wave"))
    message = _problem([skill, _skill("b", "open_ticket")], ["greet", "open_ticket"])
    assert message.endswith("quick action intent:open_ticket of skill a names none of its intents")


def test_the_skills_offer_the_home_screen_actions() -> None:
    """Reset, how-to and ticket come from their skills, each starting one of its own intents."""
    offered = {button.label: skill.name for skill in load_skills() for button in skill.quick_actions}
    assert offered == {"Reset my password": "accounts", "Ask a how-to question": "howto", "Open a ticket": "tickets"}
    check_intents(load_skills(), _project_intents())


def test_several_problems_are_reported_together() -> None:
    """All problems come in one line, separated by semicolons."""
    message = _problem([_skill("a", "greet", "x"), _skill("b", "greet")], ["greet", "y"])
    assert message.startswith("intents and skills do not match: ")
    assert message.count(";") == 2
    for part in ("greet is handled by a, b", "y has no skill", "x (skill a) is not in the training data"):
        assert part in message


def test_skill_roles() -> None:
    """``allows`` checks the role of one intent, or any intent of the skill."""
    notices = next(skill for skill in load_skills() if skill.name == "notices")
    employee, technician = Employee("e@city.example"), Employee("t@city.example", is_technician=True)
    assert notices.allows(employee, "outage_status")
    assert not notices.allows(employee, "announce")
    assert notices.allows(technician, "announce")
    assert notices.allows(employee)
    assert not notices.allows(technician, "no_such_intent")
