"""The manager's figures for a period, counted in the database (aggregates, so a year of data stays fast).

Each figure says how it is counted in its docstring; the README's dashboard section repeats it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.settings import Settings
from bot.services.outcomes import FINAL, Outcome
from bot.services.questions import group_questions
from bot.store import (
    AccountRequest,
    Acknowledgement,
    Announcement,
    Approval,
    AuditEntry,
    Conversation,
    Database,
    Delivery,
    TicketComment,
    TicketLink,
)
from bot.store import Ticket as BuiltinTicket

if TYPE_CHECKING:
    from bot.integrations.tickets import TicketView
    from bot.services.outcomes import OutcomeLog

__all__ = ["AGE_BUCKETS", "URGENCIES", "FigureSources", "Figures", "Period", "figures_for", "gather", "month_of"]

URGENCIES = ("urgent", "high", "normal", "low")
AGE_BUCKETS = (("under 1 day", timedelta(days=1)), ("1 to 3 days", timedelta(days=3)),
               ("3 to 7 days", timedelta(days=7)), ("over 7 days", timedelta.max))
TOP_TOPICS = 10
NOT_UNDERSTOOD = 10
NOT_UNDERSTOOD_ROWS = 5000
ANNOUNCEMENTS = 10
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ACCOUNT_STATUSES = {"approved": ("approved", "running", "done"), "denied": ("denied",),
                     "expired": ("expired", "expired_code"), "failed": ("failed", "locked_out"),
                     "waiting": ("new", "waiting")}
_FIRST_RESPONSE_ACTIONS = ("ticket.take", "ticket.resolve", "ticket.comment")


@dataclass(frozen=True)
class Period:
    """The time the figures cover: ``start`` inclusive, ``end`` exclusive, both aware UTC; ``month``
    (``2026-11``) when it is a calendar month."""

    start: datetime
    end: datetime
    label: str
    month: str | None = None

    @classmethod
    def last_days(cls, days: int, now: datetime) -> Period:
        """The ``days`` days up to ``now``."""
        return cls(now - timedelta(days=days), now, f"last {days} days")

    @classmethod
    def of_month(cls, text: str, timezone: str) -> Period:
        """A calendar month written ``2026-11``, in the city's time zone. ValueError for anything else."""
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"{text!r} is not a month; write it like 2026-11")
        year, month = int(match.group(1)), int(match.group(2))
        zone = ZoneInfo(timezone)
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        return cls(start.astimezone(UTC), end.astimezone(UTC), start.strftime("%B %Y"), f"{year:04d}-{month:02d}")

    def weeks(self) -> list[datetime]:
        """The start of each 7-day week of the period, from its start (the last may be shorter)."""
        starts, moment = [], self.start
        while moment < self.end:
            starts.append(moment)
            moment += timedelta(days=7)
        return starts


@dataclass
class Figures:
    """Everything the manager's page, the JSON and the monthly report show, as plain values."""

    period: dict[str, str]
    deflection: dict[str, Any]
    weeks: list[dict[str, Any]]
    volume: dict[str, dict[str, int]]
    top_topics: list[dict[str, Any]]
    not_understood: list[dict[str, Any]]
    accounts: dict[str, Any]
    ticket_figures: dict[str, Any]
    announcement_figures: list[dict[str, Any]] = field(default_factory=list)
    savings: dict[str, Any] = field(default_factory=dict)


class FigureSources(Protocol):
    """Where the figures come from: the outcome log, the database, the settings and the clock."""

    @property
    def outcomes(self) -> OutcomeLog:
        """The outcome log (its due conversations are settled first)."""
        ...

    @property
    def db(self) -> Database:
        """The database the figures are counted in."""
        ...

    @property
    def settings(self) -> Settings:
        """The bot's settings."""
        ...

    @property
    def clock(self) -> Callable[[], datetime]:
        """The bot's clock."""
        ...


async def figures_for(sources: FigureSources, period: Period, tickets: list[TicketView] | None = None) -> Figures:
    """Settle the conversations whose time is up, then count the figures for ``period`` (off the event
    loop). ``tickets``: the open tickets, when the caller has them."""
    await sources.outcomes.settle_soon()
    return await asyncio.to_thread(gather, sources.db, sources.settings, period, tickets, sources.clock())


def gather(db: Database, settings: Settings, period: Period, open_tickets: list[TicketView] | None = None,
           now: datetime | None = None) -> Figures:
    """Count the period's figures. ``open_tickets`` (TicketViews, when the ticket system answered) feed the
    open-by-age-and-urgency table; run it off the event loop (it blocks on the database)."""
    now = now or period.end

    def run(session: Session) -> Figures:
        in_period = (col(Conversation.started_at) >= period.start, col(Conversation.started_at) < period.end)
        groups = _groups(session, in_period)
        deflection = _deflection(groups)
        return Figures(
            period={"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label},
            deflection=deflection,
            weeks=_weeks(session, period, in_period),
            volume=_volume(groups),
            top_topics=_top_topics(groups),
            not_understood=_not_understood(session, in_period),
            accounts=_accounts(session, period),
            ticket_figures=_tickets(session, settings, period, open_tickets, now),
            announcement_figures=_announcements(session, period),
            savings=_savings(settings, groups, deflection),
        )

    return db.call(run)


@dataclass(frozen=True)
class _Group:
    """How many conversations of the period share these values (one row of one GROUP BY)."""

    skill: str
    intent: str
    topic: str
    department: str
    channel: str
    outcome: str
    escalation: str | None
    count: int


def _groups(session: Session, in_period: tuple[Any, ...]) -> list[_Group]:
    """The period's conversations counted in one scan, by every value a figure splits them by."""
    columns = [col(Conversation.skill), col(Conversation.intent), col(Conversation.topic),
               col(Conversation.department), col(Conversation.channel), col(Conversation.outcome),
               col(Conversation.escalation)]
    rows = session.execute(sa_select(*columns, func.count()).where(*in_period).group_by(*columns)).all()
    return [_Group(skill=row[0], intent=row[1], topic=row[2], department=row[3], channel=row[4], outcome=row[5],
                   escalation=row[6], count=int(row[7])) for row in rows]


def _count(groups: list[_Group], key: Callable[[_Group], str | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for group in groups:
        name = key(group) or "unknown"
        counts[name] = counts.get(name, 0) + group.count
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _deflection(groups: list[_Group]) -> dict[str, Any]:
    """Conversations begun in the period, by outcome; ``rate`` = resolved (both kinds) / conversations."""
    counts = _count(groups, lambda g: g.outcome)
    total = sum(counts.values())
    figures: dict[str, Any] = {"conversations": total}
    figures.update({outcome.value: counts.get(outcome.value, 0) for outcome in FINAL})
    figures["in_progress"] = counts.get(Outcome.OPEN.value, 0) + counts.get(Outcome.ANSWERED.value, 0)
    resolved = figures["resolved_confirmed"] + figures["resolved_potential"]
    figures["rate"] = round(resolved / total, 4) if total else 0.0
    escalated = [g for g in groups if g.outcome == Outcome.ESCALATED.value]
    figures["escalated_by"] = dict(sorted(_count(escalated, lambda g: g.escalation).items()))
    return figures


def _weeks(session: Session, period: Period, in_period: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Conversations by week begun and outcome (in progress ones together)."""
    starts = period.weeks()
    if not starts:
        return []
    week = case(*[(col(Conversation.started_at) < start + timedelta(days=7), index)
                  for index, start in enumerate(starts)], else_=len(starts) - 1)
    rows = session.exec(select(week, Conversation.outcome, func.count()).where(*in_period)
                        .group_by(week, Conversation.outcome)).all()
    weeks: list[dict[str, Any]] = [{"week": start.date().isoformat(), **{o.value: 0 for o in FINAL}, "in_progress": 0}
                                   for start in starts]
    for index, outcome, count in rows:
        key = outcome if outcome in weeks[0] else "in_progress"
        weeks[int(index)][key] += int(count)
    return weeks


def _volume(groups: list[_Group]) -> dict[str, dict[str, int]]:
    """Conversations by skill, intent, department (from the identity service, "" as "unknown") and channel."""
    return {"by_skill": _count(groups, lambda g: g.skill), "by_intent": _count(groups, lambda g: g.intent),
            "by_department": _count(groups, lambda g: g.department), "by_channel": _count(groups, lambda g: g.channel)}


def _top_topics(groups: list[_Group]) -> list[dict[str, Any]]:
    """The topics (intent and system, or the article answered) most often ending escalated or abandoned."""
    lost = [g for g in groups if g.outcome in (Outcome.ESCALATED.value, Outcome.ABANDONED.value)]
    totals = _count(lost, lambda g: g.topic)
    escalated = _count([g for g in lost if g.outcome == Outcome.ESCALATED.value], lambda g: g.topic)
    return [{"topic": topic, "escalated": escalated.get(topic, 0), "abandoned": total - escalated.get(topic, 0),
             "total": total} for topic, total in list(totals.items())[:TOP_TOPICS]]


def _not_understood(session: Session, in_period: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Messages the bot did not understand (the latest few thousand), grouped by their content words."""
    rows = session.exec(select(Conversation.missed_text, Conversation.started_at).where(
        *in_period, col(Conversation.missed_text).is_not(None), Conversation.outcome != Outcome.DECLINED.value)
        .order_by(col(Conversation.id).desc()).limit(NOT_UNDERSTOOD_ROWS)).all()
    groups = group_questions((text or "", at, None) for text, at in reversed(rows))
    return [{"times": g.count, "for_example": g.examples[0] if g.examples else ""} for g in groups[:NOT_UNDERSTOOD]]


def _accounts(session: Session, period: Period) -> dict[str, Any]:
    """Password resets and unlocks asked for in the period, by how they ended, and the median minutes from
    asking a technician to their decision."""
    rows = session.exec(select(AccountRequest.action, AccountRequest.status, func.count()).where(
        col(AccountRequest.created_at) >= period.start, col(AccountRequest.created_at) < period.end)
        .group_by(AccountRequest.action, AccountRequest.status)).all()
    by_action: dict[str, dict[str, int]] = {}
    for action, status, count in rows:
        bucket = next((name for name, statuses in _ACCOUNT_STATUSES.items() if status in statuses), "failed")
        line = by_action.setdefault(action, {"requested": 0, **{name: 0 for name in _ACCOUNT_STATUSES}})
        line["requested"] += int(count)
        line[bucket] += int(count)
    decided = session.exec(select(Approval.created_at, Approval.decided_at).where(
        Approval.skill == "accounts", col(Approval.decided_at).is_not(None),
        col(Approval.created_at) >= period.start, col(Approval.created_at) < period.end)).all()
    minutes = [(decided_at - created).total_seconds() / 60 for created, decided_at in decided if decided_at]
    totals = {name: sum(line[name] for line in by_action.values()) for name in ("requested", *_ACCOUNT_STATUSES)}
    return {**totals, "by_action": by_action, "decisions": len(minutes),
            "median_minutes_to_decision": round(median(minutes), 1) if minutes else None}


def _tickets(session: Session, settings: Settings, period: Period, open_tickets: list[TicketView] | None,
             now: datetime) -> dict[str, Any]:
    """Tickets the bot opened in the period; open tickets by age and urgency; median hours to the first
    technician response (a take, resolve or comment in chat, or a built-in queue comment by someone else)."""
    opened_in_period = (col(TicketLink.created_at) >= period.start, col(TicketLink.created_at) < period.end)
    opened = int(session.exec(select(func.count()).select_from(TicketLink).where(*opened_in_period)).one())
    first: dict[str, tuple[datetime, datetime]] = {
        key: (created, at) for key, created, at in session.exec(
            select(TicketLink.key, TicketLink.created_at, func.min(AuditEntry.at))
            .join(AuditEntry, col(AuditEntry.target) == col(TicketLink.key))
            .where(*opened_in_period, col(AuditEntry.at) >= period.start,
                   col(AuditEntry.action).in_(_FIRST_RESPONSE_ACTIONS),
                   col(AuditEntry.actor).in_(settings.technicians))
            .group_by(col(TicketLink.key), col(TicketLink.created_at))).all()}
    for key, created, at in session.exec(
            select(BuiltinTicket.key, BuiltinTicket.created_at, func.min(TicketComment.created_at))
            .join(TicketComment, col(TicketComment.ticket_id) == col(BuiltinTicket.id))
            .where(col(BuiltinTicket.created_at) >= period.start, col(BuiltinTicket.created_at) < period.end,
                   col(TicketComment.created_at) >= period.start, TicketComment.author != BuiltinTicket.reporter)
            .group_by(col(BuiltinTicket.key), col(BuiltinTicket.created_at))).all():
        first[key] = (created, min(at, first[key][1])) if key in first else (created, at)
    hours = [(at - created).total_seconds() / 3600 for created, at in first.values()]
    by_age: dict[str, dict[str, int]] | None = None
    if open_tickets is not None:
        by_age = _open_by_age(session, open_tickets, now)
    return {"opened": opened, "open": len(open_tickets) if open_tickets is not None else None,
            "open_by_age": by_age, "responses_known": len(hours),
            "median_hours_to_first_response": round(median(hours), 1) if hours else None}


def _open_by_age(session: Session, tickets: list[TicketView], now: datetime) -> dict[str, dict[str, int]]:
    keys = [t.key for t in tickets]
    born = dict(session.exec(select(TicketLink.key, TicketLink.created_at).where(col(TicketLink.key).in_(keys))).all())
    born.update(dict(session.exec(select(BuiltinTicket.key, BuiltinTicket.created_at).where(
        col(BuiltinTicket.key).in_(keys))).all()))
    table = {name: {urgency: 0 for urgency in URGENCIES} for name, _ in (*AGE_BUCKETS, ("age unknown", None))}
    for ticket in tickets:
        urgency = ticket.urgency if ticket.urgency in URGENCIES else "normal"
        started = born.get(ticket.key)
        age = now - started if started else None
        bucket = "age unknown" if age is None else next(name for name, limit in AGE_BUCKETS if age < limit)
        table[bucket][urgency] += 1
    return table


def _announcements(session: Session, period: Period) -> list[dict[str, Any]]:
    """The latest notices sent in the period: delivered, acknowledged, and (when asked to) unacknowledged."""
    sent = session.exec(select(Announcement).where(
        col(Announcement.sent_at) >= period.start, col(Announcement.sent_at) < period.end)
        .order_by(col(Announcement.sent_at).desc()).limit(ANNOUNCEMENTS)).all()
    ids = [row.id for row in sent]
    delivered = dict(session.exec(select(Delivery.announcement_id, func.count()).where(
        col(Delivery.announcement_id).in_(ids), Delivery.status == "sent")
        .group_by(col(Delivery.announcement_id))).all())
    acknowledged = dict(session.exec(select(Acknowledgement.announcement_id, func.count()).where(
        col(Acknowledgement.announcement_id).in_(ids)).group_by(col(Acknowledgement.announcement_id))).all())
    rows = []
    for row in sent:
        got, read = int(delivered.get(row.id or 0, 0)), int(acknowledged.get(row.id or 0, 0))
        rows.append({"id": row.id, "title": row.title, "sent": (row.sent_at or period.start).date().isoformat(),
                     "delivered": got, "acknowledged": read if row.ack_required else None,
                     "unacknowledged": max(got - read, 0) if row.ack_required else None})
    return rows


def _savings(settings: Settings, groups: list[_Group], deflection: dict[str, Any]) -> dict[str, Any]:
    """Resolved conversations times the settings: a reset or unlock at the cost of a reset, anything else at
    the cost of a ticket; hours at the minutes a ticket takes the desk."""
    resolved = deflection["resolved_confirmed"] + deflection["resolved_potential"]
    kinds = (Outcome.RESOLVED_CONFIRMED.value, Outcome.RESOLVED_POTENTIAL.value)
    resets = sum(g.count for g in groups if g.skill == "accounts" and g.outcome in kinds)
    money = (resolved - resets) * settings.cost_per_ticket + resets * settings.cost_per_reset
    return {"resolved": resolved, "resets": resets, "hours": round(resolved * settings.minutes_per_ticket / 60, 1),
            "money": round(money, 2), "currency": settings.currency, "cost_per_ticket": settings.cost_per_ticket,
            "cost_per_reset": settings.cost_per_reset, "minutes_per_ticket": settings.minutes_per_ticket}


def month_of(moment: datetime, timezone: str) -> str:
    """The month ``moment`` falls in, in the city's time zone, written ``2026-11``."""
    local: date = moment.astimezone(ZoneInfo(timezone)).date()
    return f"{local.year:04d}-{local.month:02d}"
