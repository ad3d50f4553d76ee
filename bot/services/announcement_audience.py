"""Who an announcement goes to: all staff, departments, user groups and channels, as addresses."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import col, select

from bot.channels.base import Channel, GroupDirectory
from bot.core.messages import room_address, user_address
from bot.store import Announcement, ChatAccount, Database, EmployeeRecord

__all__ = ["AudienceResolver"]


class AudienceResolver:
    """Turns an announcement's audience into addresses, with the problems to tell its author."""

    def __init__(self, db: Database, channels: Mapping[str, Channel]) -> None:
        self.db = db
        self.channels = channels  # the bot's connected channels (the same mapping, so later ones count too)

    async def recipients(self, announcement: Announcement) -> tuple[list[str], list[str]]:
        """The addresses to send to (no duplicates, never the author), and problems to tell the author."""
        audience = announcement.audience
        problems: list[str] = []
        emails: set[str] = set()
        rooms: list[str] = []
        if audience.get("all"):
            emails |= set(await self.db.run(
                lambda session: list(session.exec(select(ChatAccount.email).distinct()).all())))
        departments = [d.lower() for d in audience.get("departments", [])]
        if departments:
            query = (select(EmployeeRecord.email, EmployeeRecord.department)
                     .join(ChatAccount, col(ChatAccount.email) == col(EmployeeRecord.email)))
            found = await self.db.run(lambda session: list(session.exec(query).all()))
            matched = {(dept or "").lower() for _, dept in found}
            emails |= {email for email, dept in found if (dept or "").lower() in departments}
            problems += [f"nobody the bot can reach is in department {d!r}" for d in departments if d not in matched]
        groups = audience.get("groups", [])
        if groups:
            directories = [c for c in self.channels.values() if isinstance(c, GroupDirectory)]
            if not directories:
                problems.append(f"no connected chat platform knows user groups, so {', '.join(groups)} "
                                "were skipped")
            for handle in groups:
                members: list[str] = []
                for directory in directories:
                    members += await directory.group_members(handle)
                if directories and not members:
                    problems.append(f"user group {handle!r} has no members the bot knows")
                emails |= {m.lower() for m in members}
        for entry in audience.get("channels", []):
            address = self._room(entry, audience.get("origin", ""))
            if address is None:
                problems.append(f"channel {entry!r} is not on a connected chat platform")
            else:
                rooms.append(address)
        emails.discard(announcement.created_by.lower())
        addresses = [user_address(e) for e in sorted(emails)] + list(dict.fromkeys(rooms))
        return addresses, problems

    def _room(self, entry: str, origin: str) -> str | None:
        """The room address of a listed channel: ``slack:C0123``, or a conversation on the composer's platform."""
        entry = entry.strip().lstrip("#")
        name, sep, conversation = entry.partition(":")
        if sep and name in self.channels:
            return room_address(name, conversation)
        channel = origin if origin in self.channels else next(iter(self.channels), None)
        return room_address(channel, entry) if channel else None
