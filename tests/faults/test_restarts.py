"""Faults of one bot process: a SIGKILL right after Slack's events were acknowledged, and a restart while Jira
is down. Real ``helpdesk run`` processes against the fake Slack and the fake Jira."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.nlu import EmbeddedParser
from bot.store import Database, TicketOutboxEntry
from tests.fakes.jira import JiraFake, jira_settings
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.faults.bot_process import HANG_GUARD, BotProcess, dm_event, wait_until
from tests.faults.conftest import HUMANS
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

LEASE = "1s"


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    """Bot processes a test starts; stopped at the end, whatever happened."""
    started: list[BotProcess] = []
    yield started
    for process in started:
        process.stop()


def answers(slack: FakeSlack) -> Counter[str]:
    """How many messages the bot posted into each person's DM."""
    return Counter(str(call.args["channel"]) for call in slack.calls_to("chat.postMessage"))


async def test_events_acknowledged_before_a_sigkill_are_answered_once_after_the_restart(
        tmp_path: Path, slack: FakeSlack, processes: list[BotProcess]) -> None:
    """Ten signed events get 200, the bot is killed before it answers any, and after the restart every one
    is answered exactly once (the inbox row was written before the ack)."""
    bot = BotProcess(tmp_path, "bot", HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'helpdesk.db'}",
                     SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, HELPDESK_LEASE=LEASE).start()
    processes.append(bot)
    await bot.health()
    slack.hold("users.info", after=0)  # the bot is still looking the people up when it dies
    events = [(HUMANS[n % len(HUMANS)], f"Ev0KILL{n:05d}") for n in range(10)]
    for n, (person, event_id) in enumerate(events):
        assert await bot.post(dm_event(person, "hello there", event_id, f"1700000100.{n:06d}")) == 200
    await wait_until(lambda: any(call.method == "users.info" for call in slack.calls), "the first lookup")
    bot.kill()
    assert answers(slack) == Counter()
    slack.release.set()

    bot.start()
    restarted_at = time.monotonic()
    await bot.health()
    expected = Counter({person.dm: 2 for person in HUMANS})
    await wait_until(lambda: answers(slack) == expected, lambda: f"every event answered ({answers(slack)})")
    print(f"\nsigkill after the ack: {sum(answers(slack).values())} of {len(events)} events answered "
          f"{time.monotonic() - restarted_at:.1f} s after the restart began")
    await asyncio.sleep(3)  # three leases: nothing is taken over again
    assert answers(slack) == expected
    for n, (person, event_id) in enumerate(events[:3]):  # Slack's retries of handled events change nothing
        assert await bot.post(dm_event(person, "hello there", event_id, f"1700000100.{n:06d}"), retry=1) == 200
    await asyncio.sleep(1)
    assert answers(slack) == expected


async def test_a_restart_while_jira_is_down_serves_and_drains_the_outbox_when_jira_returns(
        tmp_path: Path, slack: FakeSlack, processes: list[BotProcess], parser: EmbeddedParser) -> None:
    """A request waits in the outbox (Jira is down) and the bot restarts: it serves (/healthz 200, Slack
    answered) and says Jira is down; when the fake Jira comes back on its address, the request is filed once."""
    jira = JiraFake(clock=Clock()).start()
    address = jira.url
    port = int(address.rsplit(":", 1)[1])
    jira.stop()  # Jira goes down
    database_url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    settings = jira_settings(jira)
    with running_bot(make_settings(database_url, **settings), nlu=parser) as before:
        chat = Chat(before)
        form = await chat.say("ann@city.example", "the badge reader at the side door does not read my card")
        queued = texts(await chat.click("ann@city.example", button(form, "Submit")))
        assert "Jira is not answering right now, so I saved your request" in queued
        assert await before.ticket_outbox.waiting() == 1

    environment = {f"HELPDESK_{name.upper()}": str(value) for name, value in settings.items()}
    bot = BotProcess(tmp_path, "bot", HELPDESK_DATABASE_URL=database_url, SLACK_BOT_TOKEN=BOT_TOKEN,
                     SLACK_API_URL=slack.api_url, HELPDESK_TICKET_RETRY_MAX="1s", **environment).start()
    processes.append(bot)
    health = await bot.health()
    assert health["status"] == "ok" and health["tickets"]["up"] is False
    assert "is not answering" in health["tickets"]["detail"] and health["tickets"]["backend"] == "Jira"
    person = HUMANS[0]
    assert await bot.post(dm_event(person, "hello", "Ev0JIRADOWN1", "1700000200.000001")) == 200
    await wait_until(lambda: answers(slack)[person.dm] == 1, "the answer while Jira is down")

    back = JiraFake(clock=Clock()).start(port=port)  # Jira returns where it was
    returned_at = time.monotonic()
    try:
        store = Database(database_url)
        outbox = lambda: store.call(lambda session: [  # noqa: E731
            (row.state, row.ticket_key) for row in session.exec(select(TicketOutboxEntry)).all()])
        try:
            await wait_until(lambda: outbox()[0][0] == "filed", "the queued request filed", HANG_GUARD)
            print(f"\njira down: the bot served; the queued request was filed {time.monotonic() - returned_at:.1f} s "
                  "after Jira came back")
            [issue] = back.issues.values()
            assert outbox() == [("filed", issue["key"])]
        finally:
            store.close()
        assert issue["fields"]["summary"].startswith("the badge reader at the side door")
        assert (await bot.health())["tickets"]["up"] is True
    finally:
        back.stop()
    assert back.violations == []

