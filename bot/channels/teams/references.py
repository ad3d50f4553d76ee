"""Where the Teams channel can post: stored conversation references and keyed messages.

A reference is stored whenever someone talks to the bot, installs it, or adds it
to a team, so the bot can send ticket updates, reset results and announcements
later (proactive messages). A message sent under a ``Reply.key`` is stored with
its conversation and activity id, so a later reply updates it in place, even
after a restart or on another replica.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store import Database, utcnow
from bot.store.models import TeamsConversation, TeamsMessage

__all__ = ["ReferenceStore", "base_conversation"]


def base_conversation(conversation_id: str) -> str:
    """A channel conversation id without its thread part (``;messageid=...``)."""
    return conversation_id.split(";", 1)[0]


class ReferenceStore:
    """Reads and writes ``TeamsConversation`` and ``TeamsMessage`` rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def remember(
        self,
        reference: dict[str, Any],
        *,
        kind: str,
        user_id: str | None = None,
        email: str | None = None,
        team_id: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Insert or refresh the reference of ``reference['conversation']['id']``."""
        conversation_id = reference["conversation"]["id"]

        def upsert(session: Session) -> None:
            row = session.exec(
                select(TeamsConversation).where(TeamsConversation.conversation_id == conversation_id)
            ).first()
            if row is None:
                row = TeamsConversation(conversation_id=conversation_id, service_url=reference["serviceUrl"])
            row.kind = kind
            row.service_url = reference["serviceUrl"]
            row.reference = reference
            row.user_id = user_id or row.user_id
            row.email = email or row.email
            row.team_id = team_id or row.team_id
            row.tenant_id = tenant_id or row.tenant_id
            row.updated_at = utcnow()
            session.add(row)

        try:
            await self.db.run(upsert)
        except IntegrityError:  # another replica stored it at the same moment: theirs is as good
            pass

    async def get(self, conversation_id: str) -> TeamsConversation | None:
        """The stored conversation, if any."""
        return await self.db.run(
            lambda s: s.exec(
                select(TeamsConversation).where(TeamsConversation.conversation_id == conversation_id)
            ).first()
        )

    async def personal(self, *, email: str | None = None, user_id: str | None = None) -> TeamsConversation | None:
        """The employee's personal chat with the bot, by email or Entra object id."""
        query = select(TeamsConversation).where(TeamsConversation.kind == "personal")
        if email:
            query = query.where(TeamsConversation.email == email.lower())
        elif user_id:
            query = query.where(TeamsConversation.user_id == user_id)
        else:
            return None
        newest = query.order_by(col(TeamsConversation.updated_at).desc())
        return await self.db.run(lambda s: s.exec(newest).first())

    async def any(self) -> TeamsConversation | None:
        """The most recently used conversation (for its service URL and tenant)."""
        return await self.db.run(
            lambda s: s.exec(select(TeamsConversation).order_by(col(TeamsConversation.updated_at).desc())).first()
        )

    async def keep_message(self, key: str, conversation_id: str, activity_id: str) -> None:
        """Remember that the message ``key`` is ``activity_id`` in ``conversation_id``."""

        def put(session: Session) -> None:
            row = session.exec(select(TeamsMessage).where(TeamsMessage.key == key)).first()
            row = row or TeamsMessage(key=key, conversation_id=conversation_id, activity_id=activity_id)
            row.conversation_id, row.activity_id = conversation_id, activity_id
            session.add(row)

        await self.db.run(put)

    async def message(self, key: str) -> TeamsMessage | None:
        """Where the message ``key`` was sent, if it was."""
        return await self.db.run(lambda s: s.exec(select(TeamsMessage).where(TeamsMessage.key == key)).first())

    async def key_answered(self, conversation_id: str, activity_ids: list[str]) -> str | None:
        """The key of the bot's message that a channel message in ``conversation_id`` answers.

        That is the thread's root when the bot posted it (one of ``activity_ids``: the message's
        ``replyToId`` and the ``;messageid=`` of its conversation id), else the newest keyed
        message the bot posted in that thread.
        """
        channel = base_conversation(conversation_id)
        roots = select(TeamsMessage.key).where(TeamsMessage.conversation_id == channel,
                                               col(TeamsMessage.activity_id).in_(activity_ids))
        in_thread = (select(TeamsMessage.key).where(TeamsMessage.conversation_id == conversation_id)
                     .order_by(col(TeamsMessage.id).desc()))

        def find(session: Session) -> str | None:
            root = session.exec(roots).first() if activity_ids else None
            if root is not None or conversation_id == channel:
                return root
            return session.exec(in_thread).first()

        return await self.db.run(find)
