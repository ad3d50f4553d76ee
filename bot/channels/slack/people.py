"""Who is who on Slack: the employee behind a user, their DM, the technicians' group, a group's members."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import Employee
from bot.core.settings import Settings
from bot.services.identity import IdentityService
from bot.store import utcnow

__all__ = ["GROUP_TTL", "PROFILE_TTL", "SlackPeople", "tell_unknown"]

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(hours=1)  # how long a users.info answer is trusted before asking again
GROUP_TTL = 300.0  # seconds a technician group's membership is trusted
UNKNOWN = ("I can't see an email address on your Slack profile, so I can't tell who you are. "
           "Please contact the IT helpdesk by phone or email.")


class SlackPeople:
    """Slack users as employees, through ``IdentityService`` (the only place people are recorded)."""

    name = "slack"

    def __init__(self, client: AsyncWebClient, identity: IdentityService, settings: Settings) -> None:
        self.client = client
        self.identity = identity
        self.settings = settings
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def employee(self, user_id: str, *, dm: str | None = None) -> Employee | None:
        """The employee behind a Slack user (their verified email via ``users.info``), or None for a bot or guest.

        ``dm`` is their direct-message channel with the bot, when known.
        """
        known = await self.identity.known(self.name, user_id)
        account = known[0] if known else None
        if account is None or _stale(account.updated_at):
            user = (await self.client.users_info(user=user_id))["user"]
            email = (user.get("profile") or {}).get("email")
            if user.get("is_bot") or user.get("deleted") or not email:
                return None
            employee = await self.identity.resolve(
                self.name, user_id, email=email, display_name=_display_name(user), private_conversation=dm
            )
        elif dm and account.private_conversation != dm:
            employee = await self.identity.resolve(self.name, user_id, email=account.email, private_conversation=dm)
        else:
            assert known is not None
            employee = known[1]
        if not employee.is_technician and user_id in await self._technician_ids():
            employee = replace(employee, is_technician=True)
        return employee

    async def dm(self, user_id: str, email: str) -> str:
        """The direct-message channel with ``user_id``, opened (and stored) the first time."""
        known = await self.identity.private_conversation(self.name, user_id)
        if known:
            return known
        opened = await self.client.conversations_open(users=user_id)
        dm = str(opened["channel"]["id"])
        await self.identity.resolve(self.name, user_id, email=email, private_conversation=dm)
        return dm

    async def group_members(self, handle: str) -> list[str]:
        """The emails of the members of the Slack user group ``handle`` (for announcements to a group)."""
        emails = []
        for user_id in sorted(await self._group_ids(handle)):
            email = await self.identity.email_of(self.name, user_id)
            if email is not None:
                emails.append(email)
                continue
            employee = await self.employee(user_id)
            if employee is not None:
                emails.append(employee.email)
        return sorted(set(emails))

    async def _technician_ids(self) -> frozenset[str]:
        handle = self.settings.slack_technician_group
        if not handle:
            return frozenset()
        try:
            return await self._group_ids(handle)
        except SlackApiError as exc:
            log.warning("cannot read the technician group %r: %s", handle, exc.response.get("error"))
            self._groups[handle] = (time.monotonic(), frozenset())
            return frozenset()

    async def _group_ids(self, handle: str) -> frozenset[str]:
        """The user ids of a user group, by handle (``it-techs``), ``@handle`` or id; cached for a few minutes."""
        cached = self._groups.get(handle)
        if cached is not None and time.monotonic() - cached[0] < GROUP_TTL:
            return cached[1]
        wanted = handle.lstrip("@")
        groups = (await self.client.usergroups_list())["usergroups"]
        group = next((g for g in groups if wanted in (g.get("handle"), g.get("id"))), None)
        if group is None:
            log.warning("no Slack user group %r", handle)
            ids: frozenset[str] = frozenset()
        else:
            ids = frozenset((await self.client.usergroups_users_list(usergroup=group["id"]))["users"])
        self._groups[handle] = (time.monotonic(), ids)
        return ids


async def tell_unknown(client: AsyncWebClient, channel_id: str, user_id: str, thread: str | None) -> None:
    """Tell someone the bot cannot tell who they are (no email on their profile): in their DM, else only to them."""
    if channel_id.startswith("D"):
        await client.chat_postMessage(channel=channel_id, text=UNKNOWN, thread_ts=thread)
    else:
        await client.chat_postEphemeral(channel=channel_id, user=user_id, text=UNKNOWN, thread_ts=thread)


def _display_name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    return str(profile.get("real_name") or user.get("real_name") or profile.get("display_name") or "")


def _stale(moment: datetime) -> bool:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utcnow() - moment > PROFILE_TTL
