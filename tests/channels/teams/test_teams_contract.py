"""The Teams channel passes the channel contract (activities over HTTP, a fake Bot Connector)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.nlu import EmbeddedParser
from tests.channels.teams.harness import TeamsHarness, running_teams
from tests.contracts.channel import ChannelContract
from tests.support import Clock


@pytest.fixture
async def harness(database_url: str, parser: EmbeddedParser, clock: Clock) -> AsyncIterator[TeamsHarness]:
    """A Teams-only bot behind /api/messages, talking to a fake connector."""
    async with running_teams(database_url, parser, clock) as teams:
        yield teams


class TestTeamsContract(ChannelContract):
    """The contract on Teams, on SQLite and PostgreSQL."""
