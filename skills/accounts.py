"""Password resets and account unlocks, approved by a technician and done by one.

With no directory connected, this is the technician-assisted flow: nothing is
changed automatically. The employee confirms, a technician approves in chat,
a technician does the reset by hand and clicks Done, and the employee is told.
No password ever passes through the bot.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from bot.context import Context
from bot.errors import PermissionDenied
from bot.messages import TECHNICIANS, Field, Reply, Turn
from bot.skill import Intent, Skill
from bot.store import Approval

__all__ = ["Accounts"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WHAT = {"reset_password": "reset the password of", "unlock_account": "unlock the account of"}


class Accounts(Skill):
    """Reset a password or unlock an account, with a technician's approval."""

    name = "accounts"
    summary = "Reset your password or unlock your account"
    examples = ("I forgot my password",)
    intents: ClassVar[tuple[Intent, ...]] = (Intent("reset_password"), Intent("unlock_account"))

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Work out whose account it is, then ask the employee to confirm."""
        assert ctx.intent is not None
        target = _target(turn.text) or ctx.employee.email
        if target != ctx.employee.email and not ctx.employee.is_technician:
            raise PermissionDenied(
                "For security, I can only reset or unlock your own account. The person who is locked out "
                "can message me themselves, or ask their supervisor to call the IT helpdesk."
            )
        system = ctx.slots.get("system") or _system(turn)
        whose = "your account" if target == ctx.employee.email else f"the account of {target}"
        verb = "reset the password of" if ctx.intent == "reset_password" else "unlock"
        await ctx.confirm(
            f"Do you want me to {verb} {whose}? A technician approves every request before anything changes.",
            ctx.intent,
            {"target": target, "system": system},
            fields=(Field("Account", target),) + ((Field("System", system),) if system else ()),
        )

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """Ask the technicians to approve, once the employee said yes."""
        if not yes:
            await ctx.reply("OK, I won't change anything.")
            return
        target = data["target"]
        details = [("Account", target)]
        if data.get("system"):
            details.append(("System", data["system"]))
        if target != ctx.employee.email:
            details.append(("Note", "asked for someone else by a technician"))
        await ctx.request_approval(
            action, f"{_WHAT[action]} {target}", details=details, data=dict(data), target=target,
        )

    async def on_approval(self, ctx: Context, approval: Approval) -> None:
        """Approved: hand the work to a technician. Denied or expired: tell the employee."""
        what = "password reset" if approval.action == "reset_password" else "account unlock"
        if approval.status == "approved":
            await ctx.send(Reply(
                f"Task: {_WHAT[approval.action]} {approval.target} by hand (approved by {approval.decided_by}). "
                "Give any temporary password to the employee by phone or in person, never in chat. "
                "Click Done when it is finished.",
                buttons=(ctx.button("done", str(approval.id), "Done", "primary"),),
                to=TECHNICIANS, key=f"accounts-task:{approval.id}",
            ))
            await ctx.reply(f"Your {what} was approved by {approval.decided_by}. A technician is doing it now "
                            "and will contact you directly (never in chat) when it is done.")
        elif approval.status == "denied":
            await ctx.reply(f"Your {what} request was not approved by {approval.decided_by}. "
                            "If you think this is a mistake, ask me to put you in touch with a person.")
        else:
            ticket = await ctx.tickets.create(
                reporter=approval.requester, summary=f"{what.capitalize()} for {approval.target}",
                description=f"Approval #{approval.id} expired before a technician decided.", urgency="high",
            )
            await ctx.reply(f"Nobody could approve your {what} in time, so I opened ticket {ticket.key} "
                            "and a technician will follow up with you.")

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """A technician marks the manual task done; the employee is told."""
        if action != "done" or not argument.isdigit():
            return
        if not ctx.employee.is_technician:
            await ctx.reply("Only technicians can complete this task.", private=True)
            return
        approval = await ctx.approval(int(argument))
        if approval is None or not await ctx.complete_approval(int(argument)):
            await ctx.reply("That task is not open any more.", private=True)
            return
        what = "password reset" if approval.action == "reset_password" else "account unlock"
        await ctx.audit.record(ctx.employee.email, f"accounts.{approval.action}", target=approval.target,
                               outcome="done", detail=f"approval #{approval.id}, done by hand")
        await ctx.send(Reply(f"Done: {what} for {approval.target}, by {ctx.employee.name}.",
                             to=TECHNICIANS, replaces=f"accounts-task:{approval.id}"))
        await ctx.tell(approval.requester, f"Your {what} for {approval.target} is done. "
                                           "If you were given a temporary password, change it when you sign in.")


def _target(text: str) -> str | None:
    match = _EMAIL.search(text or "")
    return match.group(0).lower() if match else None


def _system(turn: Turn) -> str:
    entities = (turn.parse or {}).get("entities", [])
    return next((str(e["value"]) for e in entities if e["entity"] == "system"), "")
