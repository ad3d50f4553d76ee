"""Build the Bot from Settings: store, NLU, skills, services and channels."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.channels.base import Channel, DeliveryCheck
from bot.engine.context import Context
from bot.engine.conversations import ConversationStore
from bot.core.errors import ConfigError
from bot.core.inbound import BadInput, clean_turn
from bot.integrations.directory import Directory, build_directory
from bot.integrations.kb import KnowledgeBase
from bot.integrations.mail import Mailer
from bot.integrations.ticket_jobs import TicketSync, outbox_every
from bot.integrations.tickets import TicketBackend, TicketOutbox, build_ticket_backend
from bot.core.messages import TECHNICIANS, Employee, Field, Reply, Turn
from bot.nlu import Parser, build_parser, load_training_data
from bot.nlu.signals import SignalReader
from bot.engine.router import Router
from bot.services.account_requests import AccountRequests
from bot.services.announcements import AnnouncementService
from bot.services.approvals import ApprovalService, approval_card, decided_card
from bot.services.audit import AuditLog
from bot.services.identity import IdentityService
from bot.services.inbox import Inbox
from bot.services.notice_buttons import NO_BUTTONS, NoticeButtons
from bot.services.notices import NoticeBoard
from bot.services.outcomes import OutcomeLog
from bot.services.questions import QuestionLog
from bot.services.scheduler import Scheduler
from bot.core.settings import Settings
from bot.engine.skill import Skill, check_intents, load_skills
from bot.store import Approval, Database, utcnow
from bot.core.text import neutralise_bidi, neutralise_mentions

__all__ = ["Bot"]

log = logging.getLogger(__name__)


class Bot:
    """The whole engine, platform-agnostic. Channels call ``handle``; skills reach it through ``Context``."""

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        nlu: Parser | None = None,
        skills: list[Skill] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db or Database(settings.database_url)
        self.skills = skills if skills is not None else load_skills()
        self._nlu = nlu
        self.signals: SignalReader | None = None
        self.system_names: dict[str, str] = {}
        self.audit = AuditLog(self.db)
        self.identity = IdentityService(self.db, settings)
        self.conversations = ConversationStore(self.db)
        self.approvals = ApprovalService(self.db, self.audit, settings.approval_ttl, clock)
        self.ticket_backend = build_ticket_backend(settings, self.db, clock)
        self.ticket_outbox = TicketOutbox(self.ticket_backend, self.db, clock, settings.ticket_retry_max)
        self.tickets: TicketBackend = self.ticket_outbox
        self.tickets_sync = TicketSync(self)
        self.ticket_outbox.on_filed = self.tickets_sync.filed
        self.ticket_outbox.on_change = self.tickets_sync.observe
        self.ticket_outbox.on_queued = self.tickets_sync.queued
        self.kb = KnowledgeBase(settings.kb_dir, base_url=settings.kb_base_url, cache_dir=settings.nlu_cache_dir)
        self.notices = NoticeBoard(self.db, clock)
        self.questions = QuestionLog(self.db, clock)
        self.outcomes = OutcomeLog(self.db, clock, settings.outcome_window, settings.outcome_idle)
        self.directory: Directory = build_directory(settings)
        self.mailer: Mailer | None = _mailer(settings)
        self.account_requests = AccountRequests(self.db, clock)
        self._kb_signature: tuple[tuple[str, int, int], ...] | None = None
        self.router = Router(self)
        self.channels: dict[str, Channel] = {}
        self.scheduler = Scheduler(self, self.db, clock, settings.schedule_grace)
        self.inbox = Inbox(self.db, clock, settings.lease, self.scheduler.replica)
        self.announcements = AnnouncementService(
            self.db, clock, settings, deliverer=self, channels=self.channels, approvals=self.approvals,
            audit=self.audit, board=self.notices, scheduler=self.scheduler, system_name=self.system_name,
            buttons=next((s for s in self.skills if isinstance(s, NoticeButtons)), NO_BUTTONS))

    # Start-up -----------------------------------------------------------------

    def start(self) -> None:
        """Migrate the database, train the NLU (and the signals of ``intents/signals/``) and check that skills
        and intents match."""
        self.db.migrate()
        self.scheduler.start()
        data = load_training_data(self.settings.intents_dir)
        check_intents(self.skills, data.intents)
        if self._nlu is None:
            self._nlu = build_parser(self.settings)
        signals = self.settings.intents_dir / "signals"
        if signals.is_dir():
            self.signals = SignalReader.train(signals, self.settings.nlu_cache_dir, intents=data)
        self.kb.synonyms = data.synonyms
        self.system_names = data.display_names
        self.reload_kb_if_changed()
        self.tickets.check()

    def reload_kb_if_changed(self) -> bool:
        """Re-read the knowledge base when a file in its folder was added, changed or removed."""
        folder = self.kb.folder
        files = sorted(folder.glob("*.md")) if folder.is_dir() else []
        signature = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        if signature == self._kb_signature:
            return False
        self.kb.load()
        self._kb_signature = signature
        log.info("knowledge base: %d articles loaded, %d with errors", len(self.kb.articles), len(self.kb.errors))
        return True

    def system_name(self, value: str) -> str:
        """What staff call the system whose NLU value is ``value`` ("erp" is "Munis ..."), from the synonyms'
        ``metadata: {display: ...}``; the value itself when none is given."""
        return self.system_names.get(value.strip().lower(), value)

    @property
    def nlu(self) -> Parser:
        """The NLU parser (trained by ``start``)."""
        if self._nlu is None:
            raise ConfigError("the bot has not been started: call Bot.start() first")
        return self._nlu

    @property
    def nlu_ready(self) -> bool:
        """True once the NLU is trained (or connected) and can parse."""
        return self._nlu is not None and self._nlu.ready

    def add_channel(self, channel: Channel) -> None:
        """Connect a channel; the first one also carries the technicians' conversation."""
        self.channels[channel.name] = channel

    def close(self) -> None:
        """Release the scheduler, the ticket backend's connections and the database."""
        self.scheduler.shutdown()
        close_backend = getattr(self.ticket_backend, "close", None)
        if close_backend is not None:
            close_backend()
        self.db.close()

    async def run_background(self) -> None:
        """While serving: fire scheduled jobs, take over the inbox items and fan-outs a dead replica left,
        and ask a ticket backend that is down again until it answers."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.ticket_outbox.watch(outbox_every(self.settings)))
            group.create_task(self.inbox.run_forever())
            group.create_task(self.announcements.watch())
            group.create_task(self.scheduler.run_forever())

    # Turns and replies -------------------------------------------------------

    async def handle(self, turn: Turn, *, deduplicated: bool = False) -> None:
        """Handle one turn from a channel (its employee already resolved), its text and ids cleaned first.

        ``deduplicated``: the turn comes from the inbox, which already dropped repeats, so it runs
        even when it is being picked up again after a crash.
        """
        try:
            clean_turn(turn)
        except BadInput as exc:
            log.info("refused a turn from %s: %s", turn.channel, exc)
            await self.deliver(Reply("I did not recognise that button. It may be from an old message."), origin=turn)
            return
        await self.router.handle(turn, deduplicated=deduplicated)

    async def deliver(self, reply: Reply, origin: Turn | None = None) -> bool:
        """Send ``reply`` through the right channel, resolving where it goes; False when no connected channel
        reaches ``reply.to`` (it is logged, not raised).

        Its text and fields are defused first, so nothing a person typed can page
        a whole channel; only ``Reply.mention`` (the composer's explicit option) can.
        """
        reply = defused(reply)
        if reply.to is None:
            if origin is None:
                raise ValueError("a reply with no address needs the turn it answers")
            await self.channels[origin.channel].send(reply.addressed(origin.conversation_id), origin)
            return True
        if reply.to == TECHNICIANS:
            await self._technician_channel(origin).send(reply, origin)
            return True
        if reply.to.startswith("user:"):
            account = await self.identity.account(reply.to.removeprefix("user:"))
            channel = self.channels.get(account.channel) if account else None
            if channel is None:
                log.warning("cannot reach %s: they have not talked to the bot on a connected channel", reply.to)
                return False
            await channel.send(reply, origin)
            return True
        if reply.to.startswith("room:"):
            name, _, conversation = reply.to.removeprefix("room:").partition(":")
            if name not in self.channels:
                log.warning("cannot post to %s: channel %r is not connected", reply.to, name)
                return False
            await self.channels[name].send(reply.addressed(conversation), origin)
            return True
        if origin is None:
            raise ValueError(f"cannot tell which channel holds conversation {reply.to!r}")
        await self.channels[origin.channel].send(reply, origin)
        return True

    async def was_delivered(self, reply: Reply) -> bool:
        """True when the channel that reaches ``reply.to`` (a ``DeliveryCheck``) says ``reply.key`` is there."""
        channel: Channel | None = None
        if reply.to and reply.to.startswith("user:"):
            account = await self.identity.account(reply.to.removeprefix("user:"))
            channel = self.channels.get(account.channel) if account else None
        elif reply.to and reply.to.startswith("room:"):
            channel = self.channels.get(reply.to.removeprefix("room:").partition(":")[0])
        return isinstance(channel, DeliveryCheck) and await channel.was_delivered(reply)

    def _technician_channel(self, origin: Turn | None) -> Channel:
        if origin is not None and origin.channel in self.channels:
            return self.channels[origin.channel]
        return next(iter(self.channels.values()))

    # Approvals ---------------------------------------------------------------

    async def request_approval(
        self,
        ctx: Context,
        action: str,
        summary: str,
        *,
        details: list[tuple[str, str]] | None = None,
        data: dict[str, Any] | None = None,
        target: str = "",
    ) -> Approval:
        """Store an approval, post its card to the technicians and tell the requester."""
        turn = ctx.turn
        approval = await self.approvals.create(
            skill=ctx.skill.name, action=action, summary=summary, requester=ctx.employee,
            channel=turn.channel, conversation=turn.conversation_id, details=details, data=data, target=target,
        )
        await self.deliver(approval_card(approval, self.settings.local_time(approval.expires_at)), origin=turn)
        minutes = int(self.settings.approval_ttl.total_seconds() // 60)
        await ctx.reply(
            f"I've asked the IT technicians to approve this (request #{approval.id}). "
            f"I'll message you here as soon as someone decides, usually within {minutes} minutes."
        )
        return approval

    async def decide_approval(self, turn: Turn, approval_id: int, approve: bool) -> None:
        """A technician clicked Approve or Deny."""
        assert turn.employee is not None
        decision = await self.approvals.decide(approval_id, turn.employee, approve)
        if not decision.accepted:
            await self.deliver(Reply(f"Not done: {decision.reason}", private=True), origin=turn)
            if decision.expired_now and decision.approval is not None:
                await self._finish(decision.approval, turn)
            return
        assert decision.approval is not None
        await self._finish(decision.approval, turn)

    async def expire_approvals(self) -> int:
        """Expire overdue approvals, update their cards and tell the requesters. Returns how many."""
        expired = await self.approvals.expire_due()
        for approval in expired:
            await self._finish(approval, None)
        return len(expired)

    async def _finish(self, approval: Approval, origin: Turn | None) -> None:
        """Show the decision on the card, tell the requester, and resume the skill."""
        await self.deliver(decided_card(approval), origin=origin)
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
        skill = self.router.skills_by_name.get(approval.skill)
        if skill is None:
            return
        ctx = Context(self, requester_turn, skill)
        await self.router.guard(ctx, skill.on_approval(ctx, approval))


def _mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer ``HELPDESK_SMTP_*`` describe, or None without a host."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Mailer(settings.smtp_host, settings.smtp_port, settings.smtp_from, username=settings.smtp_username,
                  password=password, starttls=settings.smtp_starttls, implicit_tls=settings.smtp_ssl,
                  ca_file=settings.smtp_ca_file)


def defused(reply: Reply) -> Reply:
    """``reply`` with @channel, @everyone, @here (and Slack's ``<!channel>``) defused and bidirectional controls
    neutralised in its text, fields and button labels."""
    def safe(text: str) -> str:
        return neutralise_bidi(neutralise_mentions(text))

    fields = tuple(Field(safe(f.label), safe(f.value)) for f in reply.fields)
    buttons = tuple(replace(b, label=safe(b.label)) for b in reply.buttons)
    return replace(reply, text=safe(reply.text), fields=fields, buttons=buttons)
