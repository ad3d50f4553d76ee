"""Technicians approve sensitive actions in chat.

The service checks who may approve, refuses self-approval, expires requests
and writes every decision to the audit log. Each step is a conditional UPDATE
on the approval row, so two clicks (or two replicas) can never both decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from bot.core.action import Decide, encode_action
from bot.core.messages import TECHNICIANS, Button, Employee, Field, Reply
from bot.services.audit import AuditLog
from bot.store import Approval, Database

__all__ = ["ApprovalService", "Decision", "approval_card", "decided_card"]

APPROVE, DENY = "approve", "deny"


@dataclass(frozen=True)
class Decision:
    """What came of a click on Approve or Deny."""

    approval: Approval | None
    accepted: bool
    reason: str = ""
    expired_now: bool = False


def _key(approval: Approval) -> str:
    return f"approval:{approval.id}"


def approval_card(approval: Approval, expires: str) -> Reply:
    """The request as technicians see it, with Approve and Deny buttons; ``expires`` is the local time."""
    number = approval.id
    if number is None:
        raise ValueError("an approval card needs a saved approval")
    fields = [Field(label, value) for label, value in approval.details]
    fields.append(Field("Requested by", approval.requester))
    fields.append(Field("Expires", expires))
    return Reply(
        text=f"Approval needed (#{approval.id}): {approval.summary}",
        fields=tuple(fields),
        buttons=(
            Button(encode_action(Decide(number, "approve")), "Approve", "primary"),
            Button(encode_action(Decide(number, "deny")), "Deny", "danger"),
        ),
        to=TECHNICIANS,
        key=_key(approval),
    )


def decided_card(approval: Approval) -> Reply:
    """The same card once decided: no buttons left, and who decided."""
    if approval.status == "expired":
        outcome = "Expired: nobody decided in time."
    elif approval.status == "withdrawn":
        outcome = f"Withdrawn by {approval.decided_by}: it was changed after approval was asked for."
    else:
        outcome = f"{approval.status.capitalize()} by {approval.decided_by}."
    return Reply(
        text=f"Approval #{approval.id}: {approval.summary}\n{outcome}",
        fields=tuple(Field(label, value) for label, value in approval.details),
        to=TECHNICIANS,
        replaces=_key(approval),
    )


class ApprovalService:
    """Creates, decides and expires approvals."""

    def __init__(self, db: Database, audit: AuditLog, ttl: timedelta, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.audit = audit
        self.ttl = ttl
        self.clock = clock

    async def create(
        self,
        *,
        skill: str,
        action: str,
        summary: str,
        requester: Employee,
        channel: str,
        conversation: str,
        details: list[tuple[str, str]] | None = None,
        data: dict[str, Any] | None = None,
        target: str = "",
    ) -> Approval:
        """Store a pending approval and audit the request."""
        now = self.clock()
        approval = Approval(
            skill=skill,
            action=action,
            summary=summary,
            details=[list(pair) for pair in details or []],
            data=data or {},
            requester=requester.email,
            requester_channel=channel,
            requester_conversation=conversation,
            target=target or requester.email,
            created_at=now,
            expires_at=now + self.ttl,
        )
        approval = await self.db.run(lambda session: _add(session, approval))
        await self.audit.record(
            requester.email, f"approval.request:{action}", target=approval.target, outcome="pending",
            detail=f"approval #{approval.id}",
        )
        return approval

    async def decide(self, approval_id: int, decider: Employee, approve: bool) -> Decision:
        """Apply a technician's click. Refusals are audited too.

        Nobody decides on a request they made or one about their own account,
        nor one whose ``data["excluded_deciders"]`` names them (a second approval).
        """
        verdict = "approved" if approve else "denied"
        approval = await self.get(approval_id)
        if approval is None:
            return Decision(None, False, "That approval request does not exist.")
        if approval.status != "pending":
            who = f" by {approval.decided_by}" if approval.decided_by else ""
            return Decision(approval, False, f"This request was already {approval.status}{who}.")
        refusal = ""
        if not decider.is_technician:
            refusal = "Only technicians can approve or deny requests."
        elif decider.email in (approval.requester, approval.target):
            refusal = "You cannot decide on your own request; another technician must."
        elif decider.email in approval.data.get("excluded_deciders", []):
            refusal = "You already approved this request once; a second technician must decide."
        if refusal:
            await self.audit.record(
                decider.email, f"approval.{verdict}:{approval.action}", target=approval.target,
                outcome="refused", detail=f"approval #{approval.id}: {refusal}",
            )
            return Decision(approval, False, refusal)
        if self.clock() >= approval.expires_at:
            expired = await self.expire_due()
            just_now = any(row.id == approval_id for row in expired)
            return Decision(await self.get(approval_id), False, "This request has expired.", just_now)
        changed = await self.db.run(
            lambda session: _transition(session, approval_id, verdict, decider.email, self.clock())
        )
        approval = await self.get(approval_id)
        if not changed or approval is None:
            return Decision(approval, False, "Someone else decided on this request first.")
        await self.audit.record(
            decider.email, f"approval.{verdict}:{approval.action}", target=approval.target,
            outcome=verdict, detail=f"approval #{approval.id} requested by {approval.requester}",
        )
        return Decision(approval, True)

    async def expire_due(self) -> list[Approval]:
        """Mark every pending approval past its time as expired; return those this call expired."""
        now = self.clock()

        def expire(session: Session) -> list[Approval]:
            due = session.exec(
                select(Approval).where(Approval.status == "pending", col(Approval.expires_at) <= now)
            ).all()
            return [row for row in due if _transition(session, row.id or 0, "expired", None, now)]

        expired = await self.db.run(expire)
        for approval in expired:
            await self.audit.record(
                "system", f"approval.expire:{approval.action}", target=approval.target, outcome="expired",
                detail=f"approval #{approval.id} requested by {approval.requester}",
            )
        return [row for row in [await self.get(a.id or 0) for a in expired] if row is not None]

    async def withdraw(self, skill: str, action: str, who: str, **data: Any) -> list[Approval]:
        """Withdraw every pending ``skill``/``action`` approval whose data holds ``data``: what it asked
        about has changed, so nobody may approve it any more. Returns the withdrawn rows."""
        now = self.clock()

        def withdraw(session: Session) -> list[int]:
            pending = session.exec(select(Approval).where(
                Approval.skill == skill, Approval.action == action, Approval.status == "pending")).all()
            mine = [row.id or 0 for row in pending if all(row.data.get(k) == v for k, v in data.items())]
            return [row_id for row_id in mine if _transition(session, row_id, "withdrawn", who, now)]

        withdrawn = [row for row in [await self.get(i) for i in await self.db.run(withdraw)] if row is not None]
        for approval in withdrawn:
            await self.audit.record(who, f"approval.withdraw:{action}", target=approval.target,
                                    outcome="withdrawn", detail=f"approval #{approval.id}: changed after asking")
        return withdrawn

    async def complete(self, approval_id: int, who: str) -> bool:
        """Mark an approved action as carried out; False when it was not waiting for that."""
        return await self.db.run(
            lambda session: _transition(session, approval_id, "done", who, self.clock(), current="approved")
        )

    async def get(self, approval_id: int) -> Approval | None:
        """One approval by id."""
        return await self.db.run(lambda session: session.get(Approval, approval_id))

    async def pending(self) -> list[Approval]:
        """Every approval still waiting, oldest first."""
        return await self.db.run(
            lambda session: list(
                session.exec(
                    select(Approval).where(Approval.status == "pending").order_by(col(Approval.id))
                ).all()
            )
        )


def _add(session: Session, approval: Approval) -> Approval:
    session.add(approval)
    session.flush()
    session.refresh(approval)
    return approval


def _transition(
    session: Session, approval_id: int, status: str, who: str | None, when: datetime, current: str = "pending"
) -> bool:
    """Move an approval from ``current`` to ``status``; False when it was no longer ``current``."""
    values: dict[str, Any] = {"status": status}
    if current == "pending":
        values.update(decided_by=who, decided_at=when)
    # sqlmodel's Session.execute drops SQLAlchemy's overload that types an UPDATE's result as a CursorResult
    result = cast("CursorResult[Any]", session.execute(
        update(Approval).where(col(Approval.id) == approval_id, col(Approval.status) == current).values(**values)
    ))
    return result.rowcount == 1
