"""The fault suite's fake Slack: the harness's people and forty more staff (the audience of a fan-out)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.channels.slack.harness import GROUPS, PEOPLE
from tests.fakes.slack import FakeSlack, SlackUser

STAFF = [SlackUser(f"U0S{n:07d}", f"staff{n:02d}@city.example", f"Staff {n}") for n in range(40)]
HUMANS = [person for person in PEOPLE if not person.is_bot and not person.deleted]
"""The harness's people who can talk to the bot (they write the events)."""


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack the bot processes call; the test fails if any call broke Slack's spec."""
    fake = FakeSlack(PEOPLE + STAFF, groups=GROUPS)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.violations == []
