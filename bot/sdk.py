"""Everything a skill may import: the skill's declarations, its ``Context``, messages, errors and the values
it reads.

A module of ``skills/`` imports from ``bot`` only through this module (``tests/unit/test_sdk.py`` checks it),
so the engine behind it can change without touching a skill.
"""

from __future__ import annotations

from bot.core.action import SkillClick, StartIntent, encode_action
from bot.core.errors import (
    DirectoryError,
    IntegrationError,
    PermissionDenied,
    TicketQueued,
    UnknownButton,
    UserFacingError,
)
from bot.core.inbound import record_id
from bot.core.messages import TECHNICIANS, Button, Employee, Field, Form, FormInput, Reply, Turn, user_address
from bot.core.redaction import hidden
from bot.core.text import neutralise_mentions, summary_of
from bot.core.timewords import parse_window
from bot.engine.context import Context
from bot.engine.skill import Fallback, Intent, Prompt, Role, Skill, Slot
from bot.engine.understanding import FOLLOW_UP_WINDOW
from bot.integrations.directory import DirectoryAccount
from bot.integrations.kb import Article, Hit
from bot.integrations.tickets import TicketView
from bot.nlu.signals import SURE, Signal
from bot.services.account_requests import CODE_TTL
from bot.services.announcement_composer import KINDS, Draft, composer_inputs, composer_values, read_composer
from bot.services.figures import Figures, Period, month_of
from bot.services.outcomes import Escalation
from bot.services.passwords import temporary_password
from bot.store.views import AccountRequestView, AnnouncementView, ApprovalView

__all__ = [
    # Declaring a skill
    "Fallback",
    "Intent",
    "Prompt",
    "Role",
    "Skill",
    "Slot",
    # Its door to the world during a turn
    "Context",
    # Messages in and out
    "TECHNICIANS",
    "Button",
    "SkillClick",
    "StartIntent",
    "encode_action",
    "Employee",
    "Field",
    "Form",
    "FormInput",
    "Reply",
    "Turn",
    "user_address",
    # Errors a skill raises or catches
    "DirectoryError",
    "IntegrationError",
    "PermissionDenied",
    "TicketQueued",
    "UnknownButton",
    "UserFacingError",
    # Values a skill reads
    "AccountRequestView",
    "AnnouncementView",
    "ApprovalView",
    "Article",
    "DirectoryAccount",
    "Draft",
    "Escalation",
    "Figures",
    "Hit",
    "Period",
    "Signal",
    "TicketView",
    # Constants
    "CODE_TTL",
    "FOLLOW_UP_WINDOW",
    "KINDS",
    "SURE",
    # Helpers
    "composer_inputs",
    "composer_values",
    "hidden",
    "month_of",
    "neutralise_mentions",
    "parse_window",
    "read_composer",
    "record_id",
    "summary_of",
    "temporary_password",
]
