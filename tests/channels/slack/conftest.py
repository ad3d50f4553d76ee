"""The plain Slack fixture of the channel tests; a test module that needs other settings defines its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.nlu import EmbeddedParser
from tests.channels.slack.harness import SlackHarness


@pytest.fixture
async def slack(tmp_path: Path, parser: EmbeddedParser) -> AsyncIterator[SlackHarness]:
    """The bot on the fake Slack, on a SQLite file of this test's own; no request broke the spec."""
    harness = await SlackHarness.start(f"sqlite:///{tmp_path / 'helpdesk.db'}", parser)
    yield harness
    await harness.stop()
    assert harness.fake.violations == []
