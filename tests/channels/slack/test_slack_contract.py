"""The Slack channel passes the channel contract, over signed HTTP requests to a fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.nlu import EmbeddedParser
from tests.channels.slack.harness import SlackHarness
from tests.contracts.channel import ChannelContract


class TestSlackContract(ChannelContract):
    """The contract on Slack (HTTP mode), on SQLite and PostgreSQL."""

    @pytest.fixture
    async def harness(self, database_url: str, parser: EmbeddedParser) -> AsyncIterator[SlackHarness]:
        """A bot on the fake Slack; the fake must have seen no call that breaks Slack's spec."""
        harness = await SlackHarness.start(database_url, parser)
        try:
            yield harness
        finally:
            await harness.stop()
        assert harness.fake.violations == []
