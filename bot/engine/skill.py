"""What a skill is: the intents it handles, the slots it needs, the role it requires.

A skill implements ``handle(turn, ctx)`` and talks to the world only through
``ctx``. Every ``Skill`` subclass in a module of the ``skills`` package is
registered by importing the package.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Flag, auto
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from bot.core.action import StartIntent, decode_action
from bot.core.errors import ConfigError
from bot.core.messages import Button, Employee, Turn

if TYPE_CHECKING:
    from bot.engine.context import Context
    from bot.store import Approval

__all__ = ["ROUTER_INTENTS", "Fallback", "Intent", "Prompt", "Role", "Skill", "Slot", "check_intents", "load_skills"]

Role = Literal["employee", "technician", "manager"]

ROUTER_INTENTS = frozenset({"affirm", "deny", "out_of_scope"})
"""Intents the router answers itself: yes, no, and the fallback."""


class Fallback(Flag):
    """The part an intent plays when a message is not understood: the router offers what these intents do."""

    NONE = 0
    GUIDES = auto()
    """It answers with a how-to guide: a likely guide is answered with it, and the nearest are offered."""
    TICKET = auto()
    """It opens a ticket with what the person wrote: always offered beside the readings."""
    PERSON = auto()
    """It puts the person through to a technician: always offered, even beside a close call."""


@dataclass(frozen=True)
class Slot:
    """A value a skill needs before it can act.

    Filled from the NLU entity ``entity`` when the message has one, otherwise
    the router asks ``question`` and takes the answer (a click on one of
    ``choices``, or the typed text).
    """

    name: str
    question: str
    entity: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Intent:
    """One intent a skill handles, who may use it, and the slots it needs."""

    name: str
    role: Role = "employee"
    slots: tuple[Slot, ...] = ()
    label: str = ""
    """How a button offering this intent reads, in the employee's words ("Reset my password")."""
    label_about: str = ""
    """The same about a named system, with ``{system}`` in it ("Is {system} down?"); ``label`` if empty."""
    offered: bool = True
    """Whether the router may offer it as a reading of an unclear message (not "hello" or "thanks")."""
    is_request: bool = True
    """False for what is not a request for help (small talk, a technician's own work): starting it opens no
    conversation on the manager's dashboard."""
    confirmed_by: str = ""
    """A kind of signal (``security``) that, read in the same message by the signal reader, confirms this
    intent when it is only the likeliest reading: two independent readers agreeing is enough to start it.
    Or a cue of the words (``bot.nlu.request.CUES``): ``others``, the message tells that others have the same
    trouble ("and so has the person next to me"); ``earlier``, it tells of a request made earlier that still waits
    ("put in a ticket last week, havent heard a thing"); ``person``, it wishes for someone to come by, call or sit
    with them ("if somebody could come take a look")."""
    confirmed_with: Callable[[str], bool] | None = None
    """What the words must also tell for a signal (``confirmed_by``) to confirm this intent: a security matter read
    in a phishing report confirms it only when the person says they did what the email asked ("so i did, with my
    city email and password"), not when they ask how to tell a fake."""
    guide_first: bool = False
    """When the message asks how or why ("how do i reset it myself", "how can i tell an email is fake") and a
    guide surely answers it, the router answers with the guide and offers this intent as a button."""
    guide_over_a_part: bool = False
    """When only a part of a longer message reads as this intent ("got access to the billing inbox, confirmation email
    and everything, but my replies go out under my name": the part about the email reads as a phishing report) and a
    guide the judge is sure of answers the whole message, the router answers with the guide and offers this intent
    as a button (unless the signal reader is sure of a security matter)."""
    guide_unless_cued: bool = False
    """When the words do not carry this intent's cue (``confirmed_by``, say ``person``) and a guide the judge is sure of
    answers the message ("is there a phone number people can call into my teams meeting", read as a wish to talk to
    a person for its phone words), the router answers with the guide and offers this intent as a button."""
    self_service: bool = False
    """It only answers, with what the person can do themselves (a guide, the self-service page): on an unsure
    reading of a message that asks how ("i'd like to swap it for a new one myself"), the router starts it rather than
    asking which reading was meant."""
    asked_again: bool = False
    """It answers a question about something named (is it down, where is my ticket): a follow-up that refers
    back to it ("ok and the payment site too?", "its the one about the redaction software") asks the same question
    again, about what the follow-up names."""
    problem_follows: bool = False
    """Its answer may end in "not known to be down: report it?": a problem told right after it, starting like a
    continuation ("ok so nothing posted about it. we have four people in the lobby waiting ..."), goes on from the
    question, and the ticket preview carries both messages, the question first."""
    fallback: Fallback = Fallback.NONE
    """Its part in the answer to a message the router does not understand (never offered as a reading then)."""
    fallback_label: str = ""
    """How its button reads in that answer, when not as ``offer_label()``."""

    def offer_label(self, system: str | None = None) -> str:
        """The button label for this intent, about ``system`` when one was named and the intent has a form for it."""
        if system and self.label_about:
            return self.label_about.format(system=system)
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Prompt:
    """A suggested first message, offered to click instead of typing (Slack's suggested prompts in the agent
    panel, the prompt starters of the Teams app).

    ``message`` is what is sent, in words the NLU reads as ``intent`` (one of the skill's own; its role
    says who is offered it); ``title`` is the short label, ``description`` one line on what it does.
    ``rank`` orders the prompts of all skills, lowest first (a panel shows only the first few).
    """

    title: str
    message: str
    intent: str
    description: str
    rank: int


class Skill:
    """Base class of every skill. Subclasses set the class attributes and ``handle``."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    examples: ClassVar[tuple[str, ...]] = ()
    intents: ClassVar[tuple[Intent, ...]] = ()
    quick_actions: ClassVar[tuple[Button, ...]] = ()
    """Buttons for a channel's home screen (the Slack App Home): ``intent:<name>`` starts one of this
    skill's intents, a ``skill:<name>:<action>:`` button calls ``on_click``."""
    prompts: ClassVar[tuple[Prompt, ...]] = ()
    """Suggested first messages for the chat apps' prompt lists (see ``bot/engine/prompts.py``)."""

    def intent(self, name: str) -> Intent | None:
        """The declaration of intent ``name``, if this skill handles it."""
        return next((intent for intent in self.intents if intent.name == name), None)

    def allows(self, employee: Employee, intent: str | None = None) -> bool:
        """True when ``employee`` may use ``intent`` (or, with no intent, any of this skill's)."""
        chosen = [self.intent(intent)] if intent else list(self.intents)
        return any(i is not None and (i.role == "employee" or (i.role == "technician" and employee.is_technician)
                                      or (i.role == "manager" and employee.is_manager)) for i in chosen)

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Act on a message whose intent this skill handles; ``ctx.intent`` says which."""
        raise NotImplementedError

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """The employee answered a ``ctx.confirm`` question."""

    async def on_more(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any]) -> bool:
        """The employee wrote more instead of answering a ``ctx.confirm`` question about ``action``, and the message
        asks for nothing else (the router checks). True when the skill took it as more of the same (a detail added
        to a draft); False lets the message be read on its own."""
        return False

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """A click on a button made with ``ctx.button(action, argument, label)``."""

    async def on_approval(self, ctx: Context, approval: Approval) -> None:
        """A request from ``ctx.request_approval`` was approved, denied or expired."""

    async def on_thread_reply(self, turn: Turn, ctx: Context, thread: str) -> bool:
        """A reply in the thread of this skill's message keyed ``thread`` (``"<skill name>:..."``).

        Return True when handled; False lets the router treat it as an ordinary message.
        """
        return False


def load_skills(package: str = "skills") -> list[Skill]:
    """Import every module of ``package`` and make one of each Skill subclass defined there."""
    root = importlib.import_module(package)
    found: list[Skill] = []
    for module_info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Skill) and cls is not Skill and cls.__module__ == module.__name__ and cls.name:
                found.append(cls())
    return found


def check_intents(skills: Iterable[Skill], data_intents: Iterable[str]) -> None:
    """Every intent in the data is handled by exactly one skill, every skill's intents exist, and every
    quick action that starts an intent names one of its own skill's.

    Raises ConfigError with one clear line otherwise.
    """
    skills = list(skills)
    known = set(data_intents)
    owners: dict[str, list[str]] = {}
    for skill in skills:
        for intent in skill.intents:
            owners.setdefault(intent.name, []).append(skill.name)
    problems = [f"{name} is handled by {', '.join(who)}" for name, who in sorted(owners.items()) if len(who) > 1]
    problems += [f"{name} has no skill" for name in sorted(known - set(owners) - ROUTER_INTENTS)]
    problems += [
        f"{name} (skill {', '.join(owners[name])}) is not in the training data"
        for name in sorted(set(owners) - known)
    ]
    problems += [f"{name} is the router's own intent" for name in sorted(set(owners) & ROUTER_INTENTS)]
    problems += [
        f"quick action {button.id} of skill {skill.name} names none of its intents"
        for skill in skills for button in skill.quick_actions
        if isinstance(action := decode_action(button.id), StartIntent) and skill.intent(action.intent) is None
    ]
    problems += [
        f"prompt {prompt.title!r} of skill {skill.name} names none of its intents"
        for skill in skills for prompt in skill.prompts if skill.intent(prompt.intent) is None
    ]
    if problems:
        raise ConfigError("intents and skills do not match: " + "; ".join(problems))
