"""Password resets and account unlocks, verified, limited, audited, and done through the directory.

Who may ask: an employee for their own account; a technician for someone
else, and then always with another technician's approval. How the request
is verified (``HELPDESK_RESET_POLICY``): ``approval`` (a technician approves
in chat) or ``self_service`` (a one-time code to the alternate address the
directory holds). Accounts in ``HELPDESK_PROTECTED_GROUPS`` always need
approval, and a second technician with ``HELPDESK_PROTECTED_SECOND_APPROVAL``.

With a directory (LDAP/AD, Entra ID) the bot makes the change and shows the
temporary password once, privately, to the employee only. With no directory
(technician-assisted) an approved request becomes a task a technician does by
hand and closes with Done. No password is ever stored, logged, audited, put
into a ticket or shown to technicians.

Self-service first: ``change_password`` (changing one's own password, the
rules, an expiry coming up) gets the knowledge base's password guide and the
self-service page (``HELPDESK_PASSWORD_SELF_SERVICE_URL``); the reset is only
offered, as a button.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, ClassVar

from bot.sdk import (
    CODE_TTL,
    TECHNICIANS,
    AccountRequestView,
    ApprovalView,
    Button,
    Context,
    DirectoryAccount,
    DirectoryError,
    Escalation,
    Field,
    IntegrationError,
    Intent,
    PermissionDenied,
    Prompt,
    Reply,
    Skill,
    StartIntent,
    Turn,
    UnknownButton,
    encode_action,
    hidden,
    record_id,
    temporary_password,
    user_address,
)
from skills.account_words import choice_of, masked, password_article, system_of, target_of
from skills.howto import article_answer

__all__ = ["Accounts"]

_WHAT = {"reset_password": "reset the password of", "unlock_account": "unlock the account of"}
_NOUN = {"reset_password": "password reset", "unlock_account": "account unlock"}
_OPEN = ("new", "waiting", "approved")
_FAILURES = {
    "unreachable": "I cannot reach the account directory right now",
    "bind_refused": "the account directory refused my sign-in",
    "password_rejected": "the directory's password rules refused the temporary password",
    "not_found": "I could not find an account with the email {target} in the directory",
    "disabled": "the account {target} is disabled, and only a technician can turn it back on",
    "unsupported": "the directory cannot do that automatically",
    "refused": "the directory refused the change",
}


class Accounts(Skill):
    """Reset a password or unlock an account, verified by a technician or a one-time code."""

    name = "accounts"
    summary = "Reset your password or unlock your account"
    examples = ("I forgot my password",)
    intents: ClassVar[tuple[Intent, ...]] = (Intent("reset_password", label="Reset my password", guide_first=True),
                                               Intent("unlock_account", label="Unlock my account", guide_first=True),
                                               Intent("change_password", label="Change my password myself",
                                                      self_service=True))
    quick_actions: ClassVar[tuple[Button, ...]] = (
        Button(encode_action(StartIntent("reset_password")), "Reset my password", "primary"),)
    prompts: ClassVar[tuple[Prompt, ...]] = (
        Prompt("Reset my password", "I forgot my password", "reset_password",
               "Reset your password (a technician approves it)", 10),
        Prompt("Unlock my account", "my account is locked", "unlock_account",
               "Unlock your account after too many tries", 60),
    )

    # Asking ------------------------------------------------------------------

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Work out whose account it is and what it needs, then ask the employee to confirm."""
        assert ctx.intent is not None
        if ctx.intent == "change_password":
            await self._self_service_first(turn, ctx)
            return
        if "code" in ctx.slots:
            await self._check_code(ctx)
            return
        target = str(ctx.slots.get("target") or target_of(turn.text) or ctx.employee.email)
        if target != ctx.employee.email and not ctx.employee.is_technician:
            raise PermissionDenied(
                "For security, I can only reset or unlock your own account. The person who is locked out "
                "can message me themselves, or ask their supervisor to call the IT helpdesk."
            )
        ctx.slots["target"] = target
        ctx.slots.setdefault("system", system_of(turn))
        choice = choice_of(ctx.slots.pop("choice", None))
        if choice == "cancel":
            await ctx.reply("OK, I won't change anything.")
            return
        action = {"unlock": "unlock_account", "reset": "reset_password"}.get(choice or "", ctx.intent)
        if not await self._within_limits(ctx, target, action):
            return
        account = await self._account(ctx, target, action)
        if account is None:
            return
        whose = "your account" if target == ctx.employee.email else f"the account of {target}"
        if choice is None and ctx.directory.automatic and ctx.directory.can_unlock:
            if action == "reset_password" and account.locked:
                await ctx.ask("choice", f"{whose.capitalize()} is locked. If the password is still known, I can "
                              "just unlock it and leave the password as it is.",
                              choices=(("unlock", "Unlock only"), ("reset", "Reset the password"),
                                       ("cancel", "Cancel")))
                return
            if action == "unlock_account" and account.locked is False:
                await ctx.ask("choice", f"{whose.capitalize()} is not locked right now. Do you want a new "
                              "temporary password instead?",
                              choices=(("reset", "Reset the password"), ("cancel", "Cancel")))
                return
        if target == ctx.employee.email:  # the self-service reset, or "it unlocks by itself"; the card stays below
            await ctx.show_guide(about="Reset my password" if action == "reset_password" else "Unlock my account")
        verb = "reset the password of" if action == "reset_password" else "unlock"
        system = str(ctx.slots.get("system") or "")
        signal = ctx.signal()
        urgent = signal.label.reason if signal is not None and not signal.security else ""  # at the counter
        await ctx.confirm(
            f"Do you want me to {verb} {whose}? {self._how_verified(ctx, account, target)}",
            action,
            {"target": target, "system": system, "urgent": urgent},
            fields=(Field("Account", target),) + ((Field("System", ctx.system_name(system)),) if system else ()),
        )

    async def _self_service_first(self, turn: Turn, ctx: Context) -> None:
        """Changing one's own password (or its rules, or an expiry coming up) is for the employee to do: the
        guide, the self-service page when there is one, and a reset by a technician only as a button."""
        question = turn.text.strip()
        # a follow-up read alone first: "how many characters now", after the steps, is the rules
        alone = password_article(ctx, turn.follow_up, sure=True) if turn.follow_up else None
        article = alone or password_article(ctx, question) or password_article(ctx, "change my password")
        fields = []
        if ctx.settings.password_self_service_url:
            fields.append(Field("Change it yourself", ctx.settings.password_self_service_url))
        if article is not None:
            await ctx.questions.record(question, ctx.employee.email, article.id)
            answer, link = article_answer(ctx, article)
            fields.extend(link)
            text = f"You can do this yourself.\n{answer}"
            await ctx.outcomes.answered(ctx.employee.email, f"howto: {article.id}")
        else:
            text = ("You can change your own password: on a city computer press Ctrl+Alt+Delete and choose "
                    "\"Change a password\".")
            await ctx.outcomes.answered(ctx.employee.email)
        offer = await ctx.offer("reset_password", "Reset it for me instead")
        await ctx.reply(text + "\nIf you cannot sign in at all, I can ask a technician to reset it for you.",
                        fields=tuple(fields), buttons=(offer,))

    def _how_verified(self, ctx: Context, account: DirectoryAccount, target: str) -> str:
        if self._self_service(ctx, account, target):
            return "I will send a one-time code to your other email address to check it is you."
        return "A technician approves every request before anything changes."

    def _self_service(self, ctx: Context, account: DirectoryAccount, target: str) -> bool:
        return (ctx.settings.reset_policy == "self_service" and ctx.directory.automatic
                and target == ctx.employee.email and not account.privileges(ctx.settings.protected_groups)
                and bool(account.alternate_email) and ctx.mailer is not None)

    async def on_confirm(self, turn: Turn, ctx: Context, action: str, data: dict[str, Any], yes: bool) -> None:
        """The employee said yes: check again, then send a code or ask the technicians."""
        if not yes:
            await ctx.reply("OK, I won't change anything.")
            return
        target = str(data["target"])
        if target != ctx.employee.email and not ctx.employee.is_technician:
            raise PermissionDenied("For security, I can only reset or unlock your own account.")
        if not await self._within_limits(ctx, target, action):
            return
        account = await self._account(ctx, target, action)
        if account is None:
            return
        manual = not ctx.directory.automatic or (action == "unlock_account" and not ctx.directory.can_unlock)
        method = "assisted" if manual else "self_service" if self._self_service(ctx, account, target) else "approval"
        requests = ctx.account_requests
        request = await requests.create(requester=ctx.employee.email, target=target, action=action, method=method)
        await ctx.audit.record(ctx.employee.email, f"accounts.{action}", target=target, outcome="requested",
                               detail=f"request #{request.id}, {method}")
        if method == "self_service" and await self._send_code(ctx, request, account):
            return
        if method == "self_service":
            await requests.update(request.id or 0, method="approval")
        await self._ask_technicians(ctx, request, account, str(data.get("system") or ""),
                                    str(data.get("urgent") or ""))

    async def _send_code(self, ctx: Context, request: AccountRequestView, account: DirectoryAccount) -> bool:
        """Mail a one-time code to the alternate address and ask for it; False if mail failed."""
        assert ctx.mailer is not None and account.alternate_email
        requests = ctx.account_requests
        code = await requests.issue_code(request.id or 0)
        minutes = int(CODE_TTL.total_seconds() // 60)
        try:
            await ctx.mailer.send(
                account.alternate_email, "Your IT helpdesk code",
                f"Your one-time code is {code}. It works for {minutes} minutes.\n\n"
                "Type it in your chat with the IT helpdesk bot. If you did not ask to reset your password "
                "or unlock your account, tell the IT helpdesk: someone may be trying to get into it.",
            )
        except IntegrationError:
            await requests.update(request.id or 0, code_hash=None, status="new")
            await ctx.reply("I could not send you a code by email, so a technician will approve this instead.")
            return False
        ctx.continue_as(request.action, {"target": request.target, "request": request.id})
        await ctx.ask("code", f"I sent a 6-digit code to your other email address {masked(account.alternate_email)}."
                      f" Type it here within {minutes} minutes.", private=True)
        return True

    async def _ask_technicians(self, ctx: Context, request: AccountRequestView, account: DirectoryAccount,
                               system: str, urgent: str = "") -> None:
        settings = ctx.settings
        protected = account.privileges(settings.protected_groups)
        last = account.last_reset or await ctx.account_requests.last_done(request.target)
        details = [("Account", request.target)]
        if urgent:
            details.append(("Urgent", urgent))
        if system:
            details.append(("System", system))
        details.append(("Last reset", settings.local_time(last) if last else "no record"))
        details.append(("Privileged", f"yes: {', '.join(protected)}" if protected else "no"))
        if account.locked is not None:
            details.append(("Locked", "yes" if account.locked else "no"))
        if request.target != request.requester:
            details.append(("Note", "asked for someone else by a technician"))
        needed = 2 if protected and settings.protected_second_approval else 1
        data: dict[str, Any] = {"target": request.target, "system": system, "request_id": request.id,
                                "approvals_needed": needed, "approvers": []}
        approval = await ctx.request_approval(request.action, f"{_WHAT[request.action]} {request.target}",
                                              details=details, data=data, target=request.target)
        await ctx.account_requests.update(request.id or 0, approval_id=approval.id, status="waiting")
        await ctx.outcomes.escalated(request.requester, Escalation.APPROVAL)

    # Verifying ---------------------------------------------------------------

    async def _check_code(self, ctx: Context) -> None:
        requests = ctx.account_requests
        request_id = int(ctx.slots.get("request") or 0)
        typed = str(ctx.slots.pop("code"))
        request = await requests.get(request_id)
        if request is None or request.requester != ctx.employee.email:
            await ctx.reply("That code is not for an open request of yours. Nothing was changed.")
            return
        if not any(ch.isdigit() for ch in typed):
            # Not an attempt at a code: ask again without using up a try.
            await ctx.ask("code", "Please type the 6-digit code from the email, or say no to stop.", private=True)
            return
        outcome, left = await requests.check_code(request_id, typed)
        me = ctx.employee.email
        if outcome == "ok":
            await ctx.audit.record(me, "accounts.code", target=request.target, outcome="verified",
                                   detail=f"request #{request_id}")
            account = await self._account(ctx, request.target, request.action, request)
            if account is not None:
                await self._carry_out(ctx, request, account, "one-time code")
        elif outcome == "wrong":
            await ctx.audit.record(me, "accounts.code", target=request.target, outcome="wrong",
                                   detail=f"request #{request_id}, {left} tries left")
            await ctx.ask("code", f"That code is not right. You have {left} {'try' if left == 1 else 'tries'} left.",
                          private=True)
        elif outcome == "locked_out":
            await ctx.audit.record(me, "accounts.code", target=request.target, outcome="locked_out",
                                   detail=f"request #{request_id}, three wrong codes")
            until = ctx.settings.local_time(ctx.now() + ctx.settings.reset_cooldown)
            await ctx.reply("That was the third wrong code, so I stopped this request and changed nothing. "
                            f"For your security you can ask again after {until}, or ask me for a person.")
        elif outcome == "expired":
            await ctx.audit.record(me, "accounts.code", target=request.target, outcome="expired",
                                   detail=f"request #{request_id}")
            await ctx.reply("That code has expired (codes last 10 minutes), so nothing was changed. "
                            "Ask me again and I will send a new one.")
        else:
            await ctx.reply("That request is no longer open, so nothing was changed.")

    async def on_approval(self, ctx: Context, approval: ApprovalView) -> None:
        """Approved: change it (or hand it to a technician). Denied or expired: tell the employee."""
        what = _NOUN.get(approval.action, "request")
        requests = ctx.account_requests
        request = await requests.get(int(approval.data.get("request_id") or 0))
        if approval.status == "approved":
            approvers = [*approval.data.get("approvers", []), str(approval.decided_by)]
            if len(approvers) < int(approval.data.get("approvals_needed", 1)):
                await ctx.reply(f"{approval.decided_by} approved your {what}. This account is privileged, "
                                "so a second technician must approve it too.")
                data = {**approval.data, "approvers": approvers, "excluded_deciders": approvers}
                details = [(label, value) for label, value in approval.details] + [("First approval", approvers[0])]
                second = await ctx.request_approval(approval.action, f"{approval.summary} (second approval)",
                                                    details=details, data=data, target=approval.target)
                if request is not None:
                    await requests.update(request.id or 0, approval_id=second.id, approved_by=approvers[0])
                return
            if request is None or request.method == "assisted":
                await self._technician_task(ctx, approval, request, approvers)
                return
            await requests.update(request.id or 0, status="approved", approved_by=", ".join(approvers))
            account = await self._account(ctx, request.target, request.action, request)
            if account is not None:
                await self._carry_out(ctx, request, account, ", ".join(approvers), approval)
        elif approval.status == "denied":
            if request is not None:
                await requests.finish(request.id or 0, "denied", only_from=_OPEN, approved_by="")
            await ctx.reply(f"Your {what} request was not approved by {approval.decided_by}. "
                            "If you think this is a mistake, ask me to put you in touch with a person.")
        else:
            if request is not None:
                await requests.finish(request.id or 0, "expired", only_from=_OPEN)
            ticket = await ctx.tickets.create(
                reporter=approval.requester, summary=f"{what.capitalize()} for {approval.target}",
                description=f"Approval #{approval.id} expired before a technician decided.", urgency="high",
            )
            await ctx.reply(f"Nobody could approve your {what} in time, so I opened ticket {ticket.key} "
                            "and a technician will follow up with you.")

    # Doing -------------------------------------------------------------------

    async def _technician_task(self, ctx: Context, approval: ApprovalView, request: AccountRequestView | None,
                               approvers: list[str]) -> None:
        what = _NOUN.get(approval.action, "request")
        if request is not None:
            await ctx.account_requests.update(request.id or 0, status="approved", approved_by=", ".join(approvers))
        await ctx.send(Reply(
            f"Task: {_WHAT[approval.action]} {approval.target} by hand (approved by {', '.join(approvers)}). "
            "Give any temporary password to the employee by phone or in person, never in chat. "
            "Click Done when it is finished.",
            buttons=(ctx.button("done", str(approval.id), "Done", "primary"),),
            to=TECHNICIANS, key=f"accounts-task:{approval.id}",
        ))
        await ctx.reply(f"Your {what} was approved by {approval.decided_by}. A technician is doing it now "
                        "and will contact you directly (never in chat) when it is done.")

    async def _carry_out(self, ctx: Context, request: AccountRequestView, account: DirectoryAccount, approver: str,
                         approval: ApprovalView | None = None) -> None:
        """Make the change in the directory and tell the employee; any failure leaves nothing half done."""
        requests = ctx.account_requests
        request_id = request.id or 0
        if request.target != ctx.employee.email and not await ctx.can_reach(request.target):
            # The password could only be shown to the technician: make it a task instead.
            if approval is not None:
                await requests.update(request_id, method="assisted")
                await self._technician_task(ctx, approval, request, approver.split(", "))
                return
        if not await requests.finish(request_id, "running", only_from=_OPEN):
            await ctx.reply("That request was already handled, so I did nothing more.")
            return
        what = _NOUN[request.action]
        try:
            if request.action == "unlock_account":
                await ctx.directory.unlock(account)
                secret = None
            else:
                names = [account.username, account.display_name, account.email.split("@")[0]]
                secret = temporary_password(ctx.settings.temp_password_length, ctx.settings.temp_password_classes,
                                            names)
                with hidden(secret):
                    await ctx.directory.reset_password(account, secret)
        except DirectoryError as exc:
            await self._failed(ctx, request.target, request.action, exc.kind, request)
            return
        await requests.finish(request_id, "done", only_from=("running",))
        if approval is not None:
            await ctx.complete_approval(approval.id or 0)
        await ctx.audit.record(request.requester, f"accounts.{request.action}", target=request.target,
                               outcome="done", detail=f"request #{request_id}, {request.method}, verified by "
                               f"{approver}, through {ctx.directory.name}")
        if approval is not None:
            await ctx.tell_technicians(f"Done: {what} for {request.target} through the directory "
                                       f"(approval #{approval.id}).")
        else:
            await ctx.outcomes.resolved(request.requester)
        if secret is None:
            text = (f"Your account {account.username} is unlocked. Sign in with your usual password; "
                    "if you have forgotten it, ask me to reset it.")
        else:
            text = (f"Your temporary password for {account.username} is: {secret}\n"
                    "You must choose a new password the first time you sign in with it. I show it only to you, "
                    "only this once, and I have not kept it anywhere.")
        to = None if request.target == ctx.employee.email else user_address(request.target)
        with hidden(secret) if secret else nullcontext():
            await ctx.send(Reply(text, to=to, private=True, secret=secret is not None))
        if to is not None:
            await ctx.reply(f"Done: the {what} for {request.target} is finished; they have been told privately.")

    async def _account(self, ctx: Context, target: str, action: str,
                       request: AccountRequestView | None = None) -> DirectoryAccount | None:
        """The target's account, or None after telling the employee why it cannot be changed."""
        try:
            account = await ctx.directory.find(target)
        except DirectoryError as exc:
            await self._failed(ctx, target, action, exc.kind, request)
            return None
        if account is None:
            await self._failed(ctx, target, action, "not_found", request)
            return None
        if account.disabled:
            await self._failed(ctx, target, action, "disabled", request)
            return None
        return account

    async def _failed(self, ctx: Context, target: str, action: str, kind: str,
                      request: AccountRequestView | None) -> None:
        """Audit the failure, open a ticket for a human, and tell the employee in plain words."""
        what = _NOUN[action]
        reason = _FAILURES.get(kind, _FAILURES["refused"]).format(target=target)
        if request is not None:
            await ctx.account_requests.finish(request.id or 0, "failed", only_from=(*_OPEN, "running"), failure=kind)
        where = f"request #{request.id}, " if request is not None else ""
        await ctx.audit.record(ctx.employee.email, f"accounts.{action}", target=target, outcome="failed",
                               detail=f"{where}{kind} ({ctx.directory.name})")
        ticket = await ctx.tickets.create(
            reporter=ctx.employee.email, summary=f"{what.capitalize()} for {target} needs a technician",
            description=f"The bot could not finish the {what} for {target}: {reason}. Nothing was changed.",
            urgency="high",
        )
        await ctx.outcomes.escalated(ctx.employee.email, Escalation.TICKET)
        await ctx.reply(f"Sorry, {reason}, so nothing was changed. I opened ticket {ticket.key} and a technician "
                        "will help you.")

    async def _within_limits(self, ctx: Context, target: str, action: str) -> bool:
        """The daily reset limit and the cool-down after failures; False after telling the employee."""
        requests = ctx.account_requests
        settings = ctx.settings
        until = await requests.cooling_down_until(target, settings.reset_cooldown)
        if until is not None:
            await ctx.audit.record(ctx.employee.email, f"accounts.{action}", target=target, outcome="refused",
                                   detail="cool-down after a failed attempt")
            await ctx.reply("For your security, there is a short wait after a failed attempt. Please ask again "
                            f"after {settings.local_time(until)}, or ask me for a person.")
            return False
        if action == "reset_password" and await requests.resets_today(target) >= settings.reset_daily_limit:
            await ctx.audit.record(ctx.employee.email, f"accounts.{action}", target=target, outcome="refused",
                                   detail=f"daily limit of {settings.reset_daily_limit} resets")
            await ctx.reply(f"That account has had {settings.reset_daily_limit} password resets in the last day, "
                            "which is the limit. For your security, please call the IT helpdesk or ask me for a "
                            "person.")
            return False
        return True

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """A technician marks the manual task done; the employee is told."""
        if action != "done" or record_id(argument) is None:
            raise UnknownButton
        if not ctx.employee.is_technician:
            await ctx.reply("Only technicians can complete this task.", private=True)
            return
        approval = await ctx.approval(int(argument))
        if approval is None or not await ctx.complete_approval(int(argument)):
            await ctx.reply("That task is not open any more.", private=True)
            return
        if approval.data.get("request_id"):
            await ctx.account_requests.finish(int(approval.data["request_id"]), "done", only_from=_OPEN)
        what = "password reset" if approval.action == "reset_password" else "account unlock"
        await ctx.audit.record(ctx.employee.email, f"accounts.{approval.action}", target=approval.target,
                               outcome="done", detail=f"approval #{approval.id}, done by hand")
        await ctx.send(Reply(f"Done: {what} for {approval.target}, by {ctx.employee.name}.",
                             to=TECHNICIANS, replaces=f"accounts-task:{approval.id}"))
        await ctx.tell(approval.requester, f"Your {what} for {approval.target} is done. "
                                           "If you were given a temporary password, change it when you sign in.")
