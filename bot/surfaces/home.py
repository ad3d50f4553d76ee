"""A person's home screen, whatever the channel: what the skills offer, their tickets, outages, approvals.

The Slack App Home renders it; the data comes from the engine's services and
the quick actions from the skills (``Skill.quick_actions``), so the channel
knows no skill by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.action import StartIntent, decode_action
from bot.core.errors import IntegrationError
from bot.core.messages import Button, Employee
from bot.integrations.tickets import TicketView
from bot.store import Approval, Notice

if TYPE_CHECKING:
    from bot.app import Bot

__all__ = ["Home", "home_for"]


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


async def home_for(bot: Bot, employee: Employee) -> Home:
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
