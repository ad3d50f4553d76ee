"""A person's home screen, whatever the channel: what the skills offer, their tickets, outages, approvals.

The Slack App Home renders it; the data comes from the engine's services and
the quick actions from the skills (``Skill.quick_actions``), so the channel
knows no skill by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.action import StartIntent, decode_action
from bot.core.errors import IntegrationError
from bot.core.messages import Button, Employee
from bot.engine.skill import Skill
from bot.integrations.tickets import TicketBackend, TicketView
from bot.services.approvals import ApprovalService
from bot.services.notices import NoticeBoard
from bot.store import Approval, Notice

__all__ = ["Home", "HomeSources", "home_for"]


class HomeSources(Protocol):
    """Where a home screen's parts come from (the running ``Bot`` is one)."""

    @property
    def skills(self) -> Sequence[Skill]:
        """The loaded skills, for their quick actions."""
        ...

    @property
    def tickets(self) -> TicketBackend:
        """The ticket system, for the person's open tickets."""
        ...

    @property
    def notices(self) -> NoticeBoard:
        """The notice board, for the current outages."""
        ...

    @property
    def approvals(self) -> ApprovalService:
        """The approval requests, for a technician's pending ones."""
        ...


@dataclass(frozen=True)
class Home:
    """What one person's home screen shows.

    ``tickets`` is None when the ticket system does not answer; ``approvals`` is None
    for someone who is not a technician.
    """

    name: str
    quick_actions: list[Button]
    tickets: list[TicketView] | None
    outages: list[Notice]
    approvals: list[Approval] | None


async def home_for(bot: HomeSources, employee: Employee) -> Home:
    """``employee``'s home: the quick actions they may use, their open tickets, current outages, approvals."""
    actions = []
    for skill in bot.skills:
        for button in skill.quick_actions:
            action = decode_action(button.id)
            intent = action.intent if isinstance(action, StartIntent) else None
            if skill.allows(employee, intent):
                actions.append(button)
    tickets: list[TicketView] | None
    try:
        tickets = await bot.tickets.list_for(employee.email)
    except IntegrationError:
        tickets = None
    return Home(
        name=employee.name,
        quick_actions=actions,
        tickets=tickets,
        outages=await bot.notices.active(),
        approvals=await bot.approvals.pending() if employee.is_technician else None,
    )
