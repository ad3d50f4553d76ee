"""``Context``: a skill's only door to the world during one turn, and the ``Services`` behind it."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.action import Answer, SkillClick, StartIntent, encode_action
from bot.core.errors import TicketQueued
from bot.core.messages import (
    TECHNICIANS,
    Button,
    Employee,
    Field,
    Form,
    FormInput,
    Reply,
    Turn,
    room_address,
    user_address,
)
from bot.core.pending import ClarifyPending, ConfirmPending

if TYPE_CHECKING:
    from datetime import datetime

    from bot.core.outbound import Deliverer
    from bot.core.settings import Settings
    from bot.engine.approvals import ApprovalDesk
    from bot.engine.conversations import ConversationStore
    from bot.integrations.directory import Directory
    from bot.integrations.kb import KnowledgeBase
    from bot.integrations.mail import Mailer
    from bot.integrations.tickets import TicketBackend, TicketOutbox
    from bot.nlu.signals import Signal, SignalReader
    from bot.services.account_requests import AccountRequests
    from bot.services.announcements import AnnouncementService
    from bot.services.approvals import ApprovalService
    from bot.services.audit import AuditLog
    from bot.services.figures import Figures, Period
    from bot.services.identity import IdentityService
    from bot.services.notices import NoticeBoard
    from bot.services.outcomes import OutcomeLog
    from bot.services.questions import QuestionLog
    from bot.store import Approval, Database

__all__ = ["Context", "Engine", "Services", "SkillInfo"]


@dataclass(frozen=True)
class Services:
    """The collaborators a ``Context`` (and the router) may use, built once by the app."""

    settings: Settings
    clock: Callable[[], datetime]
    db: Database
    audit: AuditLog
    identity: IdentityService
    conversations: ConversationStore
    approvals: ApprovalService
    approval_desk: ApprovalDesk
    delivery: Deliverer
    tickets: TicketBackend
    ticket_outbox: TicketOutbox
    notices: NoticeBoard
    announcements: AnnouncementService
    questions: QuestionLog
    outcomes: OutcomeLog
    directory: Directory
    mailer: Mailer | None
    kb: KnowledgeBase
    account_requests: AccountRequests
    signals: Callable[[], SignalReader | None]
    """The signal reader once the NLU is trained (``Bot.start``), else None."""
    system_name: Callable[[str], str]
    """What staff call the system whose NLU value is given."""


class SkillInfo(Protocol):
    """What a context knows of a skill: its name and how it describes itself (``bot.engine.skill.Skill``)."""

    @property
    def name(self) -> str:
        """The skill's name (in button ids, pending state and the audit)."""
        ...

    @property
    def summary(self) -> str:
        """One line on what it does, for help."""
        ...

    @property
    def examples(self) -> tuple[str, ...]:
        """Example messages."""
        ...


class Engine(Protocol):
    """What a context asks of the engine around it (``bot.engine.router.Router``)."""

    async def start(self, turn: Turn, intent: str, slots: dict[str, Any] | None = None) -> str:
        """Start ``intent`` for ``turn``; returns the name of the skill that ran."""
        ...

    async def ask(
        self, ctx: Context, slot: str, question: str, *, choices: tuple[tuple[str, str], ...] = (),
        private: bool = False,
    ) -> None:
        """Remember that ``ctx.skill`` waits for ``slot`` and ask for it."""
        ...

    def available(self, employee: Employee) -> Sequence[SkillInfo]:
        """The skills ``employee`` may use that have something to say about themselves."""
        ...

    async def show_guide(self, turn: Turn, about: str = "") -> bool:
        """Show the guide that surely covers ``turn``'s message, beside what the turn goes on to do."""
        ...


@dataclass
class Context:
    """What a skill may do while it handles ``turn``.

    ``slots`` holds the values the router filled for ``intent`` (entities,
    answers to ``ask``). Everything the skill says goes through ``reply``,
    ``ask``, ``confirm``, ``tell`` or ``request_approval``.
    """

    services: Services
    engine: Engine
    turn: Turn
    skill: SkillInfo
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)

    @property
    def employee(self) -> Employee:
        """The person this turn is from."""
        assert self.turn.employee is not None
        return self.turn.employee

    @property
    def settings(self) -> Settings:
        """The bot's settings (read them; never change them)."""
        return self.services.settings

    @property
    def audit(self) -> AuditLog:
        """The audit log."""
        return self.services.audit

    @property
    def tickets(self) -> TicketBackend:
        """The ticket backend."""
        return self.services.tickets

    @property
    def notices(self) -> NoticeBoard:
        """The notice board (outages, maintenance, security notices)."""
        return self.services.notices

    @property
    def announcements(self) -> AnnouncementService:
        """Announcements: compose, schedule, fan out, follow up, acknowledge."""
        return self.services.announcements

    @property
    def questions(self) -> QuestionLog:
        """The log of how-to questions, answers and feedback."""
        return self.services.questions

    @property
    def outcomes(self) -> OutcomeLog:
        """How conversations end (answered, resolved, escalated), for the manager's dashboard."""
        return self.services.outcomes

    async def figures(self, period: Period) -> Figures:
        """The manager's figures for ``period`` (outcomes settled first; the live ticket queue left out)."""
        from bot.services.figures import figures_for  # loaded only when a manager asks

        return await figures_for(self.services, period)

    @property
    def directory(self) -> Directory:
        """Where accounts live (LDAP/AD, Entra ID, or technician-assisted)."""
        return self.services.directory

    @property
    def mailer(self) -> Mailer | None:
        """Outgoing email (SMTP), or None when ``HELPDESK_SMTP_HOST`` is not set."""
        return self.services.mailer

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base of how-to articles."""
        return self.services.kb

    @property
    def ticket_outbox(self) -> TicketOutbox:
        """Ticket requests waiting to be filed while the backend is down."""
        return self.services.ticket_outbox

    @property
    def account_requests(self) -> AccountRequests:
        """Password reset and unlock requests: their state, one-time codes, daily limits and cool-downs."""
        return self.services.account_requests

    def signal(self, text: str | None = None) -> Signal | None:
        """What ``text`` (the turn's text by default) signals beyond its intent: a security matter, or
        public-facing work that has stopped; None for an ordinary message."""
        reader = self.services.signals()
        return reader.read(self.turn.text if text is None else text) if reader is not None else None

    def system_name(self, value: str) -> str:
        """What staff call the system whose NLU value is ``value`` (never show them "erp")."""
        return self.services.system_name(value)

    def security_room(self) -> str:
        """Where security alerts go: ``HELPDESK_SECURITY_CHANNEL`` (CHANNEL:CONVERSATION) when that chat
        platform is connected, else the technicians' conversation."""
        where = self.settings.security_channel
        if where and ":" in where:
            channel, _, conversation = where.partition(":")
            if self.is_connected(channel):
                return room_address(channel, conversation)
        return TECHNICIANS

    async def file_ticket(self, **fields: str) -> tuple[str, str]:
        """Open a ticket for the employee: its key and how to name it ("ticket HELP-3").

        When the ticket system is down the request waits in the outbox: the key is ""
        and the name is the outbox request, so a report that goes with it still goes out now.
        """
        try:
            ticket = await self.tickets.create(reporter=self.employee.email, **fields)
        except TicketQueued as queued:
            return "", f"request #{queued.entry_id}, filed as a ticket once the ticket system answers"
        return ticket.key, f"ticket {ticket.key}"

    async def hand_over(self, intent: str, slots: dict[str, Any] | None = None) -> None:
        """Start ``intent`` for this turn instead, as if it had been asked for (with ``slots`` filled)."""
        await self.engine.start(self.turn, intent, slots)

    def now(self) -> datetime:
        """The bot's clock (aware UTC); tests move it by hand."""
        return self.services.clock()

    async def can_reach(self, email: str) -> bool:
        """True when ``email`` has talked to the bot on some channel, so a private message can reach them."""
        return await self.services.identity.account(email) is not None

    def is_connected(self, channel: str) -> bool:
        """True when the chat platform named ``channel`` (``slack``, ``teams``, ``console``) is connected."""
        return self.services.delivery.is_connected(channel)

    def available_skills(self) -> Sequence[SkillInfo]:
        """The skills this employee may use, for telling them what the bot can do."""
        return self.engine.available(self.employee)

    def button(self, action: str, argument: str, label: str, style: str | None = None,
               feedback: str | None = None) -> Button:
        """A button that calls this skill's ``on_click(turn, ctx, action, argument)``.

        ``feedback`` (``"positive"`` or ``"negative"``) marks the two answers to "Did this help?".
        """
        return Button(encode_action(SkillClick(self.skill.name, action, argument)), label, style, feedback)  # type: ignore[arg-type]

    def form(
        self, action: str, argument: str, title: str, inputs: tuple[FormInput, ...], submit_label: str = "Preview"
    ) -> Form:
        """A form whose submission calls this skill's ``on_click`` with ``turn.form`` holding the values."""
        return Form(encode_action(SkillClick(self.skill.name, action, argument)), title, inputs, submit_label)

    def continue_as(self, intent: str, slots: dict[str, Any] | None = None) -> None:
        """Go on as ``intent`` (with ``slots`` instead of the current ones, when given): the next ``ask``
        remembers it, and the answer comes back to ``handle`` with that intent."""
        self.intent = intent
        if slots is not None:
            self.slots = slots

    async def offer(self, intent: str, label: str, slots: dict[str, Any] | None = None) -> Button:
        """A button that starts ``intent`` as if asked for, with ``slots`` already filled.

        Only the latest offer in a conversation keeps its slots.
        """
        await self.services.conversations.save(
            self.turn,
            pending=ClarifyPending(self.turn.text, self.turn.parse, slots or {}),
        )
        return Button(encode_action(StartIntent(intent)), label)

    async def show_guide(self, about: str = "") -> bool:
        """Show the guide that surely covers the message, as self-service beside what this skill does next (a
        jammed copier, a forgotten password), with "That fixed it", which drops what the conversation waits
        for; False when no guide surely does. ``about`` says what the guide should be about ("Reset my
        password"), when the message may name other things too."""
        return await self.engine.show_guide(self.turn, about)

    async def last_message(self) -> str:
        """The person's latest message in this conversation (what a click on an offered choice answers)."""
        return (await self.services.conversations.load(self.turn)).last_text

    async def forget_pending(self) -> None:
        """Drop whatever this conversation was waiting for (a yes or no, a slot, a choice)."""
        await self.services.conversations.save(self.turn, pending=None)

    async def approval(self, approval_id: int) -> Approval | None:
        """An approval this bot holds, by id."""
        return await self.services.approvals.get(approval_id)

    async def complete_approval(self, approval_id: int) -> bool:
        """Record that the approved action was carried out; False if it already was (or is not approved)."""
        return await self.services.approvals.complete(approval_id, self.employee.email)

    async def reply(
        self,
        text: str,
        *,
        buttons: tuple[Button, ...] | list[Button] = (),
        fields: tuple[Field, ...] | list[Field] = (),
        private: bool = False,
        key: str | None = None,
        replaces: str | None = None,
        form: Form | None = None,
    ) -> None:
        """Answer in the conversation the turn came from."""
        await self.send(
            Reply(text, tuple(buttons), tuple(fields), None, private, key, replaces, form)
        )

    async def send(self, reply: Reply) -> None:
        """Send any reply (to this conversation, the technicians, or someone's private chat)."""
        await self.services.delivery.deliver(reply, origin=self.turn)

    async def tell(self, email: str, text: str, *, buttons: tuple[Button, ...] = ()) -> None:
        """Message an employee privately, wherever they last talked to the bot."""
        await self.send(Reply(text, buttons, to=user_address(email), private=True))

    async def tell_technicians(
        self, text: str, *, buttons: tuple[Button, ...] = (), fields: tuple[Field, ...] = ()
    ) -> None:
        """Post to the technicians' conversation."""
        await self.send(Reply(text, buttons, fields, to=TECHNICIANS))

    async def ask(
        self, slot: str, question: str, *, choices: tuple[tuple[str, str], ...] = (), private: bool = False
    ) -> None:
        """Ask for ``slot``; the answer comes back to ``handle`` with ``ctx.slots[slot]`` set."""
        await self.engine.ask(self, slot, question, choices=choices, private=private)

    async def confirm(
        self,
        prompt: str,
        action: str,
        data: dict[str, Any] | None = None,
        *,
        fields: tuple[Field, ...] = (),
        yes: str = "Yes",
        no: str = "No",
    ) -> None:
        """Ask yes or no; the answer comes back to ``on_confirm(turn, ctx, action, data, yes)``."""
        nonce = secrets.token_hex(4)
        await self.services.conversations.save(
            self.turn,
            pending=ConfirmPending(self.skill.name, action, data or {}, nonce),
        )
        buttons = (Button(encode_action(Answer(nonce, yes=True)), yes, "primary"),
                   Button(encode_action(Answer(nonce, yes=False)), no))
        await self.reply(prompt, buttons=buttons, fields=fields)

    async def request_approval(
        self,
        action: str,
        summary: str,
        *,
        details: list[tuple[str, str]] | None = None,
        data: dict[str, Any] | None = None,
        target: str = "",
    ) -> Approval:
        """Ask the technicians to approve ``action`` and tell the employee so; the outcome comes to
        ``on_approval``."""
        approval = await self.services.approval_desk.request(
            skill=self.skill.name, turn=self.turn, requester=self.employee, action=action, summary=summary,
            details=details, data=data, target=target,
        )
        minutes = int(self.settings.approval_ttl.total_seconds() // 60)
        await self.reply(
            f"I've asked the IT technicians to approve this (request #{approval.id}). "
            f"I'll message you here as soon as someone decides, usually within {minutes} minutes."
        )
        return approval
