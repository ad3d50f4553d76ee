"""Two bot replicas on one PostgreSQL database, one of them killed with SIGKILL mid fan-out and with
acknowledged events still in its inbox, while Slack retries them at the other replica. Everything is
delivered once, and the survivor takes over when the dead replica's claims lapse (nothing is restarted)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app import Bot
from bot.services.announcement_composer import read_composer
from bot.store import Announcement, ChatAccount, EmployeeRecord, JobClaim
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.faults.bot_process import BotProcess, dm_event, wait_until
from tests.faults.conftest import HUMANS, STAFF
from tests.support import fresh_postgres, make_settings

pytestmark = pytest.mark.postgres

AUTHOR = "tom@city.example"
LEASE = 2.0  # seconds


@pytest.fixture
async def replicas(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[list[BotProcess]]:
    """Two ``helpdesk run`` replicas on one fresh PostgreSQL database, both healthy (one migrates first)."""
    settings = {"HELPDESK_DATABASE_URL": fresh_postgres(), "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_API_URL": slack.api_url, "HELPDESK_LEASE": f"{LEASE:g}s", "HELPDESK_FANOUT_RATE": "5",
                "HELPDESK_BROADCAST_TWO_PERSON": "false"}
    both = [BotProcess(tmp_path, "one", **settings), BotProcess(tmp_path, "two", **settings)]
    try:
        for replica in both:
            await replica.start().health()
        yield both
    finally:
        for replica in both:
            replica.stop()


@pytest.fixture
def author(replicas: list[BotProcess]) -> Iterator[Bot]:
    """A bot of the test's own on the replicas' database (as ``helpdesk announce create`` would be)."""
    bot = Bot(make_settings(replicas[0].settings["HELPDESK_DATABASE_URL"], broadcast_two_person=False))
    bot.scheduler.start()
    yield bot
    bot.close()


def notices(slack: FakeSlack) -> list[tuple[float, str]]:
    """(when, key) of every notice the fake Slack took, in order."""
    return [(call.at, str(call.args.get("metadata") or "")) for call in slack.calls_to("chat.postMessage")
            if "notice:" in str(call.args.get("metadata") or "")]


async def test_a_replica_killed_mid_fan_out_and_mid_inbox_loses_nothing_and_repeats_nothing(
        slack: FakeSlack, replicas: list[BotProcess], author: Bot) -> None:
    """Forty staff, five notices a second, fired by one of two replicas. After ten, six events reach that
    replica and get 200; it dies before answering them. Slack retries the events at the other replica,
    which drops the retries (their rows are claimed) and, once the dead replica's claims lapse, answers
    each event and sends the rest of the notices: everyone once, nobody twice, and nothing restarted."""
    def fill(session: Session) -> None:
        for person in STAFF:
            session.add(EmployeeRecord(email=person.email, display_name=person.real_name))
            session.add(ChatAccount(channel="slack", user_id=person.id, email=person.email,
                                    private_conversation=person.dm))

    author.db.call(fill)
    draft = await author.announcements.save_draft(
        read_composer({"title": "Email is down", "kind": "outage", "audience": "all"}, author.clock(), "UTC"), AUTHOR)
    await author.announcements.release(int(draft.id or 0), defer=True)  # the serving replicas send it

    await wait_until(lambda: len(notices(slack)) >= 10, "ten notices")
    sender = author.db.call(lambda session: session.exec(select(JobClaim.claimed_by).where(
        JobClaim.job_id == f"notice:{draft.id}")).one())
    dead = next(replica for replica in replicas if f":{replica.pid}:" in sender)
    survivor = next(replica for replica in replicas if replica is not dead)
    slack.hold("users.info", after=0)  # the events are acknowledged, and still being handled when it dies
    events = [(HUMANS[n % len(HUMANS)], f"Ev0REPL{n:05d}", f"1700000300.{n:06d}") for n in range(6)]
    for person, event_id, ts in events:
        assert await dead.post(dm_event(person, "hello", event_id, ts)) == 200
    await wait_until(lambda: any(call.method == "users.info" for call in slack.calls), "the first lookup")
    dead.kill()
    killed_at, sent_before = time.monotonic(), len(notices(slack))  # the fake stamps calls on this clock
    slack.release.set()
    for person, event_id, ts in events:  # Slack heard no answer in time (say) and retries at the other replica
        assert await survivor.post(dm_event(person, "hello", event_id, ts), retry=1) == 200

    expected = Counter(person.dm for person, _, _ in events)
    await wait_until(lambda: len(notices(slack)) >= len(STAFF),
                     lambda: f"every notice ({len(notices(slack))} of {len(STAFF)} sent)")
    await wait_until(lambda: answered(slack) == expected, lambda: f"every event answered ({answered(slack)})")
    took_over = min(call.at for call in slack.calls if call.at > killed_at and (
        call.method == "conversations.history" or "notice:" in str(call.args.get("metadata") or ""))) - killed_at
    resumed = next(at for at, _ in notices(slack)[sent_before:]) - killed_at
    print(f"\nfan-out: {sent_before} of {len(STAFF)} notices sent when the sender was killed; the other replica "
          f"took over {took_over:.1f} s later and sent the next notice {resumed:.1f} s later (lease {LEASE:g} s)")
    await asyncio.sleep(2 * LEASE)  # nothing more is taken over
    keys = Counter(key for _, key in notices(slack))
    assert len(keys) == len(STAFF) and set(keys.values()) == {1}, keys
    assert answered(slack) == expected
    row = author.db.call(lambda session: session.get(Announcement, draft.id))
    assert row is not None and (row.status, row.sent) == ("sent", len(STAFF))


def answered(slack: FakeSlack) -> Counter[str]:
    """How many answers the bot posted into each of the harness people's DMs (not the author's progress
    message, which is keyed)."""
    dms = {person.dm for person in HUMANS}
    return Counter(str(call.args["channel"]) for call in slack.calls_to("chat.postMessage")
                   if call.args["channel"] in dms and not call.args.get("metadata"))
