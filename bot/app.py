"""Build the Bot from Settings: store, NLU, skills, services and channels; start and stop them.

Wiring only: every workflow lives in the part that owns it (the router, the
approval desk, the delivery, the services), and each part is given the narrow
collaborators it uses when it is built.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.channels.base import Channel
from bot.core.errors import ConfigError
from bot.core.messages import Reply, Turn
from bot.core.settings import Settings
from bot.engine.approvals import ApprovalDesk
from bot.engine.context import Services
from bot.engine.conversations import ConversationStore
from bot.engine.delivery import Delivery
from bot.engine.router import Router
from bot.engine.skill import Skill, check_intents, load_skills
from bot.integrations.directory import Directory, build_directory
from bot.integrations.kb import KnowledgeBase
from bot.integrations.mail import Mailer
from bot.integrations.ticket_jobs import TicketSync, outbox_every
from bot.integrations.tickets import TicketBackend, TicketOutbox, build_ticket_backend
from bot.nlu import Parser, build_parser, load_training_data
from bot.nlu.signals import SignalReader
from bot.services.account_requests import AccountRequests
from bot.services.announcements import AnnouncementService
from bot.services.approvals import ApprovalService
from bot.services.audit import AuditLog
from bot.services.housekeeping import KnowledgeBaseReload, schedule_housekeeping
from bot.services.identity import IdentityService
from bot.services.inbox import Inbox
from bot.services.notice_buttons import NO_BUTTONS, NoticeButtons
from bot.services.notices import NoticeBoard
from bot.services.outcomes import OutcomeLog
from bot.services.questions import QuestionLog
from bot.services.scheduler import Scheduler
from bot.store import Database, utcnow

__all__ = ["Bot"]

log = logging.getLogger(__name__)


class Bot:
    """The whole engine wired from Settings, platform-agnostic. Channels call ``handle``; skills reach it
    through ``Context``; the scheduler passes it to stored jobs, which each name the few parts they use."""

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
        self.delivery = Delivery(self.identity)
        self.channels: dict[str, Channel] = self.delivery.channels
        self.approvals = ApprovalService(self.db, self.audit, settings.approval_ttl, clock)
        self.approval_desk = ApprovalDesk(self.approvals, self.identity, self.delivery, settings)
        self.ticket_backend = build_ticket_backend(settings, self.db, clock)
        self.tickets_sync = TicketSync(self.ticket_backend, self.db, clock, self.delivery, self.audit,
                                       settings.jira_poll_interval)
        self.ticket_outbox = TicketOutbox(
            self.ticket_backend, self.db, clock, settings.ticket_retry_max, on_filed=self.tickets_sync.filed,
            on_change=self.tickets_sync.observe, on_queued=self.tickets_sync.queued,
        )
        self.tickets: TicketBackend = self.ticket_outbox
        self.kb = KnowledgeBase(settings.kb_dir, base_url=settings.kb_base_url, cache_dir=settings.nlu_cache_dir)
        self.kb_reload = KnowledgeBaseReload(self.kb)
        self.notices = NoticeBoard(self.db, clock)
        self.questions = QuestionLog(self.db, clock)
        self.outcomes = OutcomeLog(self.db, clock, settings.outcome_window, settings.outcome_idle)
        self.directory: Directory = build_directory(settings)
        self.mailer: Mailer | None = _mailer(settings)
        self.account_requests = AccountRequests(self.db, clock)
        self.scheduler = Scheduler(self, self.db, clock, settings.schedule_grace)
        self.inbox = Inbox(self.db, clock, settings.lease, self.scheduler.replica)
        self.announcements = AnnouncementService(
            self.db, clock, settings, deliverer=self.delivery, channels=self.channels, approvals=self.approvals,
            audit=self.audit, board=self.notices, scheduler=self.scheduler, system_name=self.system_name,
            buttons=next((s for s in self.skills if isinstance(s, NoticeButtons)), NO_BUTTONS),
        )
        services = Services(
            settings=settings, clock=clock, db=self.db, audit=self.audit, identity=self.identity,
            conversations=self.conversations, approvals=self.approvals, approval_desk=self.approval_desk,
            delivery=self.delivery, tickets=self.tickets, ticket_outbox=self.ticket_outbox, notices=self.notices,
            announcements=self.announcements, questions=self.questions, outcomes=self.outcomes,
            directory=self.directory, mailer=self.mailer, kb=self.kb, account_requests=self.account_requests,
            signals=lambda: self.signals, system_name=self.system_name,
        )
        self.router = Router(self.skills, services, lambda: self.nlu)

    # The doors channels, jobs and tests use -----------------------------------

    async def handle(self, turn: Turn, *, deduplicated: bool = False) -> None:
        """Handle one turn from a channel (see ``Router.handle``)."""
        await self.router.handle(turn, deduplicated=deduplicated)

    async def deliver(self, reply: Reply, origin: Turn | None = None) -> bool:
        """Send ``reply`` to its address; False when no connected channel reaches it (see ``Delivery.deliver``)."""
        return await self.delivery.deliver(reply, origin)

    async def expire_approvals(self) -> int:
        """Expire overdue approvals and tell everyone concerned (see ``Router.expire_approvals``)."""
        return await self.router.expire_approvals()

    def reload_kb_if_changed(self) -> bool:
        """Re-read the knowledge base when a file in its folder was added, changed or removed."""
        return self.kb_reload()

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
        self.kb_reload()
        self.tickets.check()

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
        self.delivery.connect(channel)

    def close(self) -> None:
        """Release the scheduler, the ticket backend's connections and the database."""
        self.scheduler.shutdown()
        close_backend = getattr(self.ticket_backend, "close", None)
        if close_backend is not None:
            close_backend()
        self.db.close()

    async def run_background(self) -> None:
        """While serving: register the bot's own jobs, fire scheduled jobs, take over the inbox items and
        fan-outs a dead replica left, and ask a ticket backend that is down again until it answers."""
        schedule_housekeeping(
            self.scheduler, self.settings, tickets_kind=self.tickets.kind, expire_approvals=self.expire_approvals,
            settle_outcomes=self.outcomes.settle_soon, reload_kb=self.kb_reload,
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(self.ticket_outbox.watch(outbox_every(self.settings)))
            group.create_task(self.inbox.run_forever())
            group.create_task(self.announcements.watch())
            group.create_task(self.scheduler.run_forever())


def _mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer ``HELPDESK_SMTP_*`` describe, or None without a host."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Mailer(settings.smtp_host, settings.smtp_port, settings.smtp_from, username=settings.smtp_username,
                  password=password, starttls=settings.smtp_starttls, implicit_tls=settings.smtp_ssl,
                  ca_file=settings.smtp_ca_file)
