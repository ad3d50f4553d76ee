"""Where the bot's keyed Slack messages were posted (the ``slack_message`` table)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.store import Database, SlackMessage, utcnow

__all__ = ["PostedMessages"]


class PostedMessages:
    """The ``slack_message`` rows: a keyed message's conversation, timestamp and thread."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def remember(self, key: str, channel_id: str, ts: str, thread_ts: str | None) -> None:
        """Record (or move) the message kept under ``key``."""
        def upsert(session: Session) -> None:
            row = session.exec(select(SlackMessage).where(SlackMessage.key == key)).first() \
                or SlackMessage(key=key, channel_id=channel_id, ts=ts)
            row.channel_id, row.ts, row.thread_ts, row.posted_at = channel_id, ts, thread_ts, utcnow()
            session.add(row)

        await self.db.run(upsert)

    async def find(self, key: str) -> SlackMessage | None:
        """The message kept under ``key``, if it was recorded."""
        return await self.db.run(
            lambda session: session.exec(select(SlackMessage).where(SlackMessage.key == key)).first()
        )

    async def key_at(self, channel_id: str, thread_ts: str) -> str | None:
        """The key a message in the thread ``thread_ts`` replies under: the keyed bot message that started the
        thread, or else the newest keyed bot message inside it (a thread someone's @mention started)."""
        def lookup(session: Session) -> str | None:
            root = session.exec(select(SlackMessage.key).where(
                SlackMessage.channel_id == channel_id, SlackMessage.ts == thread_ts)).first()
            return root or session.exec(select(SlackMessage.key).where(
                SlackMessage.channel_id == channel_id, SlackMessage.thread_ts == thread_ts,
            ).order_by(col(SlackMessage.id).desc())).first()

        return await self.db.run(lookup)
