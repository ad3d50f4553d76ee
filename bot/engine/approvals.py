"""Approvals in chat, the engine's side: post the card, record a technician's click, show the decision.

The router calls the desk for a click on Approve or Deny and hands the decided
approval back to its skill (``Skill.on_approval``); ``Context.request_approval``
calls it for a skill that needs a technician's yes.
"""

from __future__ import annotations

from typing import Any

from bot.core.messages import Employee, Reply, Turn
from bot.core.outbound import Deliverer
from bot.core.settings import Settings
from bot.services.approvals import ApprovalService, approval_card, decided_card
from bot.services.identity import IdentityService
from bot.store import Approval

__all__ = ["ApprovalDesk"]


class ApprovalDesk:
    """Posts approval cards to the technicians and shows each decision on its card."""

    def __init__(
        self, approvals: ApprovalService, identity: IdentityService, delivery: Deliverer, settings: Settings
    ) -> None:
        self.approvals = approvals
        self.identity = identity
        self.delivery = delivery
        self.settings = settings

    async def request(
        self,
        *,
        skill: str,
        turn: Turn,
        requester: Employee,
        action: str,
        summary: str,
        details: list[tuple[str, str]] | None = None,
        data: dict[str, Any] | None = None,
        target: str = "",
    ) -> Approval:
        """Store an approval asked for during ``turn`` and post its card to the technicians."""
        approval = await self.approvals.create(
            skill=skill, action=action, summary=summary, requester=requester,
            channel=turn.channel, conversation=turn.conversation_id, details=details, data=data, target=target,
        )
        await self.delivery.deliver(approval_card(approval, self.settings.local_time(approval.expires_at)), origin=turn)
        return approval

    async def decide(self, turn: Turn, approval_id: int, approve: bool) -> Approval | None:
        """A technician clicked Approve or Deny: the approval now decided (or found expired), else None.

        A refusal is told to the technician privately.
        """
        assert turn.employee is not None
        decision = await self.approvals.decide(approval_id, turn.employee, approve)
        if not decision.accepted:
            await self.delivery.deliver(Reply(f"Not done: {decision.reason}", private=True), origin=turn)
            return decision.approval if decision.expired_now else None
        assert decision.approval is not None
        return decision.approval

    async def expire_due(self) -> list[Approval]:
        """Expire the overdue approvals; each still needs ``finish``."""
        return await self.approvals.expire_due()

    async def finish(self, approval: Approval, origin: Turn | None) -> Turn:
        """Show the decision on the card; returns the turn through which the requester hears of it."""
        await self.delivery.deliver(decided_card(approval), origin=origin)
        requester = await self.identity.lookup(approval.requester) or Employee(email=approval.requester)
        requester_turn = Turn(
            channel=approval.requester_channel,
            user_id=approval.requester,
            conversation_id=approval.requester_conversation,
            employee=requester,
        )
        account = await self.identity.account(approval.requester)
        if account is not None and account.channel == approval.requester_channel:
            requester_turn.user_id = account.user_id
        return requester_turn
