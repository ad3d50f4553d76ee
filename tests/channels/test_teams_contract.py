"""The Teams channel passes the channel contract (activities over HTTP, a fake Bot Connector)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Bot
from bot.nlu import EmbeddedParser
from tests.channels.contract import ChannelContract
from tests.channels.teams_harness import TeamsHarness, teams_settings
from tests.fakes.teams_connector import FakeConnector
from tests.support import Clock, make_settings


@pytest.fixture
async def harness(database_url: str, parser: EmbeddedParser, clock: Clock) -> AsyncIterator[TeamsHarness]:
    """A Teams-only bot behind /api/messages, talking to a fake connector."""
    bot = Bot(make_settings(database_url, **teams_settings()), nlu=parser, clock=clock)
    bot.start()
    connector = await FakeConnector().start()
    teams = await TeamsHarness(bot, connector).start()
    yield teams
    await teams.stop()
    await connector.stop()
    bot.close()


class TestTeamsContract(ChannelContract):
    """The contract on Teams, on SQLite and PostgreSQL."""
