"""Conversation outcomes: did the bot resolve an employee's request, hand it on, or lose it?

A *conversation* is one employee's request, from its first message until its
outcome. Its borders:

- It begins when the router starts an intent that is a request (``Intent.is_request``:
  not small talk, not a technician's own work), or when the bot does not understand a message.
- The next message continues it while it is still going: answering the bot's question,
  rephrasing after "I didn't catch that", clicking a button the bot offered.
  A new request while the last one still waits at a question ends that one ``abandoned``.
- An answer is an outcome only if it holds for ``HELPDESK_OUTCOME_WINDOW`` (72 h): a ticket, an approval
  or a hand-off for the same employee within it ends the answered conversation ``escalated`` too, and
  the same question answered the same way again is the same conversation, asked again (one row, answered
  anew), not a second one. "No, that did not help" puts it back to waiting.
- A conversation nobody touches for ``HELPDESK_OUTCOME_IDLE`` while it waits at a question ends
  ``abandoned``; an answer untouched for the window ends ``resolved_potential``.

Why: counting turns or chat sessions would count "hello", a rephrase or a "did this help?" click as
work the bot did; counting per request, and letting a later ticket undo an answer, never claims a
deflection the employee did not get (ServiceNow counts potential deflection the same way).

Everything is keyed by the employee's email, so a request begun in Slack and escalated in Teams is one.
The final outcomes are stored as the rows settle (``settle``, run by a job and before every report).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.messages import Turn
from bot.store import Conversation, Database

__all__ = ["Escalation", "Outcome", "OutcomeLog"]


class Outcome(StrEnum):
    """Where a conversation stands. The first two are still going; the rest are final."""

    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED_CONFIRMED = "resolved_confirmed"
    RESOLVED_POTENTIAL = "resolved_potential"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"
    DECLINED = "declined"


class Escalation(StrEnum):
    """How a conversation was handed to people."""

    TICKET = "ticket"
    APPROVAL = "approval"
    HANDOFF = "handoff"


FINAL = (Outcome.RESOLVED_CONFIRMED, Outcome.RESOLVED_POTENTIAL, Outcome.ESCALATED, Outcome.ABANDONED,
         Outcome.DECLINED)
_REVIVABLE = (Outcome.OPEN, Outcome.ANSWERED, Outcome.ABANDONED)
"""A late step in a flow (an answer after the idle time) brings an abandoned conversation back."""
_TEXT = 500


class OutcomeLog:
    """Opens, moves and settles ``Conversation`` rows. Every method takes the employee's email or turn."""

    def __init__(self, db: Database, clock: Callable[[], datetime], window: timedelta, idle: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.window = window
        self.idle = idle

    # Hooks --------------------------------------------------------------------------------------

    async def begin(self, turn: Turn, skill: str, intent: str) -> None:
        """The router started ``intent`` of ``skill`` for this turn's employee."""
        now = self.clock()
        topic = _topic(turn, intent)

        def run(session: Session) -> None:
            latest = _latest(session, turn.email)
            if latest is not None and latest.outcome == Outcome.OPEN:
                if latest.missed_text is not None or turn.is_click:
                    if latest.skill == "fallback":
                        latest.skill, latest.intent, latest.topic = skill, intent, topic
                    latest.updated_at = now
                    session.add(latest)
                    return
                _end(latest, Outcome.ABANDONED, now)
                session.add(latest)
            session.add(_new(turn, skill, intent, topic, now))

        await self.db.run(run)

    async def missed(self, turn: Turn, *, declined: bool) -> None:
        """The bot did not understand the turn (``declined``: it understood it is not an IT request)."""
        now = self.clock()
        text = turn.text.strip()[:_TEXT]

        def run(session: Session) -> None:
            latest = _latest(session, turn.email)
            if latest is None or latest.outcome != Outcome.OPEN or latest.missed_text is None:
                if latest is not None and latest.outcome == Outcome.OPEN:
                    _end(latest, Outcome.ABANDONED, now)
                    session.add(latest)
                latest = _new(turn, "fallback", "", "", now)
            latest.missed_text = text
            latest.updated_at = now
            if declined:
                _end(latest, Outcome.DECLINED, now)
            session.add(latest)

        await self.db.run(run)

    async def answered(self, email: str, topic: str = "") -> None:
        """The bot answered; it counts as resolved if it holds for the window. The same ``topic`` answered
        again within the window is the same conversation, asked again."""
        now = self.clock()

        def run(session: Session) -> None:
            latest = _latest(session, email)
            if latest is None or latest.outcome not in _REVIVABLE:
                return
            topic_now = topic or latest.topic
            earlier = session.exec(
                select(Conversation).where(
                    Conversation.email == email, col(Conversation.id) < latest.id,
                    Conversation.outcome == Outcome.ANSWERED, Conversation.intent == latest.intent,
                    Conversation.topic == topic_now, col(Conversation.answered_at) >= now - self.window,
                ).order_by(col(Conversation.id).desc())
            ).first()
            if earlier is not None:
                session.delete(latest)
                latest = earlier
            latest.topic, latest.outcome, latest.answered_at, latest.ended_at = topic_now, Outcome.ANSWERED, now, None
            latest.updated_at = now
            session.add(latest)

        await self.db.run(run)

    async def resolved(self, email: str) -> None:
        """The employee confirmed the answer helped, or finished a self-service action."""
        await self._change_latest(email, _REVIVABLE, lambda row, now: _end(row, Outcome.RESOLVED_CONFIRMED, now))

    async def escalated(self, email: str, how: Escalation) -> None:
        """A ticket, an approval for a technician or a hand-off. Answers given to the same employee within
        the window did not hold, so they end escalated too."""
        now = self.clock()

        def run(session: Session) -> None:
            latest = _latest(session, email)
            if latest is None or latest.outcome not in (*_REVIVABLE, Outcome.RESOLVED_CONFIRMED):
                return
            earlier = session.exec(
                select(Conversation).where(
                    Conversation.email == email, col(Conversation.id) < latest.id,
                    Conversation.outcome == Outcome.ANSWERED, col(Conversation.answered_at) >= now - self.window,
                )
            ).all()
            for row in (latest, *earlier):
                _end(row, Outcome.ESCALATED, now)
                row.escalation = how.value
                session.add(row)

        await self.db.run(run)

    async def unhelpful(self, email: str) -> None:
        """The employee said the answer did not help: the conversation goes on (or is abandoned)."""
        await self._change_latest(email, (Outcome.ANSWERED,), _reopen)

    async def forget(self, email: str) -> None:
        """The latest conversation was not a request after all (a technician working the queue)."""

        def run(session: Session) -> None:
            latest = _latest(session, email)
            if latest is not None and latest.outcome == Outcome.OPEN:
                session.delete(latest)

        await self.db.run(run)


    async def _change_latest(self, email: str, when: tuple[Outcome, ...],
                             change: Callable[[Conversation, datetime], None]) -> None:
        """``change`` the employee's latest conversation (at the clock's now) if its outcome is one of ``when``."""
        now = self.clock()

        def run(session: Session) -> None:
            latest = _latest(session, email)
            if latest is not None and latest.outcome in when:
                change(latest, now)
                session.add(latest)

        await self.db.run(run)

    # Settling -----------------------------------------------------------------------------------

    def settle(self, now: datetime | None = None) -> int:
        """End the conversations whose time is up: idle at a question (abandoned), answered and left
        alone for the window (resolved_potential). Returns how many rows changed."""
        now = now or self.clock()

        def run(session: Session) -> int:
            changed = 0
            for outcome, stage, limit in ((Outcome.ABANDONED, Outcome.OPEN, self.idle),
                                          (Outcome.RESOLVED_POTENTIAL, Outcome.ANSWERED, self.window)):
                result = session.execute(
                    update(Conversation)
                    .where(col(Conversation.outcome) == stage, col(Conversation.updated_at) < now - limit)
                    .values(outcome=outcome.value, ended_at=now, updated_at=now)
                )
                changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
            return changed

        return self.db.call(run)

    async def settle_soon(self) -> int:
        """``settle`` from async code, off the event loop."""
        return await asyncio.to_thread(self.settle)


def _latest(session: Session, email: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(Conversation.email == email).order_by(col(Conversation.id).desc()).limit(1)
    ).first()


def _topic(turn: Turn, intent: str) -> str:
    """What the request is about: the intent, and the system it names when the NLU found one."""
    entities = turn.parse.get("entities", []) if turn.parse else []
    systems = [str(e["value"]) for e in entities if e["entity"] == "system"]
    return f"{intent}: {systems[0]}" if systems else intent


def _new(turn: Turn, skill: str, intent: str, topic: str, now: datetime) -> Conversation:
    employee = turn.employee
    return Conversation(email=turn.email, channel=turn.channel, department=employee.department if employee else "",
                        skill=skill, intent=intent, topic=topic[:200], first_text=turn.text.strip()[:_TEXT],
                        started_at=now, updated_at=now)


def _end(row: Conversation, outcome: Outcome, now: datetime) -> None:
    row.outcome, row.ended_at, row.updated_at = outcome.value, now, now


def _reopen(row: Conversation, now: datetime) -> None:
    row.outcome, row.updated_at = Outcome.OPEN.value, now
