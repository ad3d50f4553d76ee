"""Calls to the Bot Connector: a connector client for a conversation reference, with retries on 429 and 5xx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import ConversationReference
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, ConnectorClientBase, TurnContext

from bot.core.errors import IntegrationError
from bot.core.settings import Settings

__all__ = ["Connector", "connector_of", "retrying"]

log = logging.getLogger(__name__)

_RETRIED = {429, 500, 502, 503, 504}
T = TypeVar("T")


@dataclass
class _Box:
    """What a proactive callback produced (the SDK swallows callback errors otherwise)."""

    result: Any = None
    error: BaseException | None = None


def connector_of(context: TurnContext) -> ConnectorClientBase | None:
    """The connector client of a live turn, if the SDK gave it one."""
    connector: ConnectorClientBase | None = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    return connector


class Connector:
    """Runs work with a connector client for any stored conversation reference (proactive messages)."""

    def __init__(self, adapter: CloudAdapter, settings: Settings, *, anonymous: bool) -> None:
        self.adapter = adapter
        self.settings = settings
        self.anonymous = anonymous

    async def run(self, reference: dict[str, Any], work: Callable[[ConnectorClientBase], Awaitable[T]]) -> T:
        """Run ``work`` with a connector client for ``reference``'s service URL, retrying 429 and 5xx."""
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()

        async def attempt() -> T:
            box = _Box()

            async def callback(context: TurnContext) -> None:
                try:
                    connector = connector_of(context)
                    assert connector is not None
                    box.result = await work(connector)
                except BaseException as exc:  # handed back to the caller below
                    box.error = exc

            if self.anonymous:
                await self.adapter.continue_conversation_with_claims(ClaimsIdentity({}), continuation, callback)
            else:
                await self.adapter.continue_conversation(self.settings.teams_app_id or "", continuation, callback)
            if box.error is not None:
                raise box.error
            return box.result  # type: ignore[no-any-return]

        try:
            return await retrying(attempt, self.settings)
        except aiohttp.ClientError as exc:
            status = getattr(exc, "status", None)
            raise IntegrationError("Microsoft Teams",
                                   f"the Bot Connector failed ({status or type(exc).__name__})") from exc


async def retrying(call: Callable[[], Awaitable[T]], settings: Settings) -> T:
    """``call()``, retried with exponential backoff when the connector answers 429 or 5xx."""
    attempts = settings.teams_retry_attempts
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except aiohttp.ClientResponseError as exc:
            if exc.status not in _RETRIED or attempt == attempts:
                raise
            delay = settings.teams_retry_seconds * 2 ** (attempt - 1)
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            if retry_after and retry_after.replace(".", "", 1).isdigit():
                delay = max(delay, min(float(retry_after), 60.0))
            log.warning("Teams connector answered %s; retrying in %.2fs (attempt %d of %d)",
                        exc.status, delay, attempt, attempts)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
