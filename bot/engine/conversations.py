"""Conversation state: what the bot waits for from one person in one conversation.

Pending steps are JSON in a row, so a restart or a second replica picks up
exactly where the conversation was.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.messages import Turn
from bot.core.pending import Pending, encode_pending
from bot.store import ConversationState, Database, ProcessedEvent, utcnow

__all__ = ["KEEP", "ConversationStore", "Keep"]


class Keep:
    """The type of ``KEEP``: save leaves the pending step as it is."""


KEEP: Final = Keep()


class ConversationStore:
    """Loads and saves ``ConversationState`` rows and remembers processed event ids."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, turn: Turn) -> ConversationState:
        """The state of the turn's conversation (a fresh one if there is none yet)."""

        def get(session: Session) -> ConversationState:
            row = session.exec(
                select(ConversationState).where(
                    ConversationState.channel == turn.channel,
                    ConversationState.conversation_id == turn.conversation_id,
                    ConversationState.user_id == turn.user_id,
                )
            ).first()
            return row or ConversationState(
                channel=turn.channel, conversation_id=turn.conversation_id, user_id=turn.user_id
            )

        return await self.db.run(get)

    async def save(
        self,
        turn: Turn,
        *,
        pending: Pending | Keep | None = KEEP,
        last_intent: str | None = None,
        misses: int | None = None,
        last_text: str | None = None,
    ) -> None:
        """Update the state; ``pending=None`` clears the pending step, and leaving it out keeps it."""

        def put(session: Session) -> None:
            row = session.exec(
                select(ConversationState).where(
                    ConversationState.channel == turn.channel,
                    ConversationState.conversation_id == turn.conversation_id,
                    ConversationState.user_id == turn.user_id,
                )
            ).first()
            if row is None:
                row = ConversationState(
                    channel=turn.channel, conversation_id=turn.conversation_id, user_id=turn.user_id
                )
            if not isinstance(pending, Keep):
                row.pending = encode_pending(pending)
            if last_intent is not None:
                row.last_intent = last_intent
            if misses is not None:
                row.misses = misses
            if last_text is not None:
                row.last_text = last_text
            row.updated_at = utcnow()
            session.add(row)

        await self.db.run(put)

    async def first_time(self, channel: str, event_id: str) -> bool:
        """Record ``event_id``; False when it was already processed (a retry or a duplicate)."""

        def insert(session: Session) -> None:
            session.add(ProcessedEvent(channel=channel, event_id=event_id))

        try:
            await self.db.run(insert)
        except IntegrityError:
            return False
        return True
