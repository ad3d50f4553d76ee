"""Slack threads, mentions and delivery checks end to end: announcements, ticket comments, a resumed fan-out."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.channels.slack.blocks import OPEN_FORM
from bot.core.messages import Reply, room_address, user_address
from bot.nlu import EmbeddedParser
from bot.services.announcement_composer import read_composer
from bot.store import Delivery, SlackMessage, TicketComment
from tests.channels.slack.harness import TECH_CHANNEL, SlackHarness
from tests.contracts.channel import ANN, BOB, TOM, button, rows, texts
from tests.fakes.slack import Call

GENERAL = "C0GENERAL1"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of this test's own."""
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
async def slack(sqlite_url: str, parser: EmbeddedParser) -> AsyncIterator[SlackHarness]:
    """The bot on the fake Slack; one technician may send a broadcast alone."""
    harness = await SlackHarness.start(sqlite_url, parser, broadcast_two_person=False)
    yield harness
    await harness.stop()
    assert harness.fake.violations == []


def key_of(call: Call) -> str:
    """The key in a posted message's metadata ("" when it has none)."""
    metadata = call.args.get("metadata") or {}
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    return str((metadata.get("event_payload") or {}).get("key", ""))


def select_state(value: str) -> dict[str, Any]:
    """A submitted static select."""
    return {"type": "static_select", "selected_option": {"value": value}}


def text_state(value: str) -> dict[str, Any]:
    """A submitted text input."""
    return {"type": "plain_text_input", "value": value}


async def open_modal(slack: SlackHarness, user: str, button_id: str) -> dict[str, Any]:
    """``user`` clicks ``button_id`` and gets a modal: its view."""
    [modal] = [line for line in await slack.click(user, button_id) if line["to"] == "modal"]
    return dict(modal["view"])


async def test_updates_land_in_the_thread_of_each_original(slack: SlackHarness) -> None:
    """A notice to all staff and #general: the channel copy pages @channel, the DMs do not, typed mentions are
    defused everywhere; "Post an update" and "Resolved" go in the thread of each person's and the channel's copy."""
    for person in (ANN, BOB, TOM):
        await slack.say(person, "hello")
    await slack.say(TOM, "announce email outage")
    view = await open_modal(slack, TOM, OPEN_FORM)
    preview = await slack.submit(TOM, view, {
        "kind": select_state("outage"), "title": text_state("Email is down @channel <!everyone>"),
        "body": text_state("We are on it."), "audience": select_state("all"), "channels": text_state(GENERAL),
        "schedule": text_state("now"), "mentions": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
    })
    await slack.click(TOM, button(preview, "Send it"))
    originals = {c.args["channel"]: c for c in slack.fake.calls_to("chat.postMessage")
                 if key_of(c).startswith("notice:1:")}
    assert set(originals) == {"D0ANN00001", "D0BOB00001", GENERAL}
    assert key_of(originals[GENERAL]) == f"notice:1:{room_address('slack', GENERAL)}"
    assert key_of(originals["D0ANN00001"]) == f"notice:1:{user_address(ANN)}"
    channel_copy = originals[GENERAL].args
    assert channel_copy["text"].startswith("<!channel> ") and channel_copy["blocks"][0]["text"]["text"].startswith(
        "<!channel> ")
    for call in originals.values():
        sent = json.dumps([call.args["text"], call.args["blocks"]])
        assert "<!everyone>" not in sent and "@\\u200bchannel" in sent
        if call.args["channel"] != GENERAL:
            assert "<!channel>" not in sent

    view = await open_modal(slack, TOM, "skill:notices:update:1")
    await slack.submit(TOM, view, {"text": text_state("Microsoft says a fix is rolling out.")})
    view = await open_modal(slack, TOM, "skill:notices:resolve:1")
    await slack.submit(TOM, view, {"text": text_state("Email works again.")})
    follow_ups = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["text"].startswith("Update")]
    assert len(follow_ups) == 6
    for call in follow_ups:
        original = originals[call.args["channel"]]
        assert call.args["thread_ts"] == original.response["ts"], call.args["channel"]
        assert "<!channel>" not in call.args["text"]
    assert any("Resolved" in c.args["text"] for c in follow_ups)


async def test_mentions_only_in_shared_channels(slack: SlackHarness) -> None:
    """Reply.mention pages a shared channel (<!here>, <!everyone>); in a DM it does nothing; typed text stays inert."""
    await slack.say(ANN, "hello")
    slack.new_lines()
    await slack.bot.deliver(Reply("Printers are back", to=room_address("slack", GENERAL), mention="here"))
    await slack.bot.deliver(Reply("Fire drill at 3", to=room_address("slack", "C0HALL0001"), mention="everyone"))
    await slack.bot.deliver(Reply("Printers are back", to=user_address(ANN), mention="channel"))
    await slack.bot.deliver(Reply("<!channel> and <!here|here> typed", to=room_address("slack", GENERAL)))
    here, everyone, dm, typed = slack.fake.calls_to("chat.postMessage")[-4:]
    assert here.args["text"] == "<!here> Printers are back"
    assert everyone.args["blocks"][0]["text"]["text"] == "<!everyone> Fire drill at 3"
    assert dm.args["text"] == "Printers are back" and dm.args["channel"] == "D0ANN00001"
    assert typed.args["text"] == "@\u200bchannel and @\u200bhere typed"  # defused by the bot, then escaped


async def test_a_reply_in_the_ticket_thread_is_a_comment(slack: SlackHarness) -> None:
    """Open a ticket in the DM, reply in the thread of "ticket is open": a comment on the ticket, the technicians
    see it, the answer stays in the thread. A reply under a message with no key is an ordinary message."""
    lines = await slack.say(ANN, "my monitor flickers all the time")
    await slack.click(ANN, button(lines, "Submit"))
    [opened] = [c for c in slack.fake.calls_to("chat.postMessage") if key_of(c) == "tickets:HELP-1"]
    assert opened.args["channel"] == "D0ANN00001" and "HELP-1 is open" in opened.args["text"]
    lines = await slack.say(ANN, "it also buzzes now", thread=opened.response["ts"])
    assert [c.body for c in rows(slack.bot, TicketComment)] == ["it also buzzes now"]
    assert "ann@city.example added to HELP-1: it also buzzes now" in texts(lines, to="technicians")
    [answer] = [line for line in lines if line["to"] == ANN]
    assert "Added your comment to HELP-1" in answer["text"] and answer["thread"] == opened.response["ts"]
    assert [line["channel"] for line in lines if line["to"] == "technicians"] == [TECH_CHANNEL]

    [plain] = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == "D0ANN00001"
               and not key_of(c)][:1]
    lines = await slack.say(ANN, "hello", thread=plain.response["ts"])
    assert len(rows(slack.bot, TicketComment)) == 1 and lines and "added" not in texts(lines).lower()


async def test_a_mention_in_the_thread_of_a_channel_ticket_is_a_comment(slack: SlackHarness) -> None:
    """Ann opens a ticket by @mentioning the bot in #general: the preview and "is open" stay in the thread her
    mention started, and a later mention in that thread is a comment on the ticket, answered there."""
    [preview] = await slack.mention(ANN, GENERAL, "my monitor flickers all the time")
    root = preview.get("thread")
    assert preview["to"] == GENERAL and root
    await slack.click(ANN, button([preview], "Submit"))
    [opened] = [c for c in slack.fake.calls_to("chat.postMessage") if key_of(c) == "tickets:HELP-1"]
    assert opened.args["channel"] == GENERAL and opened.args["thread_ts"] == root
    assert [row.thread_ts for row in rows(slack.bot, SlackMessage) if row.key == "tickets:HELP-1"] == [root]

    lines = await slack.mention(ANN, GENERAL, "it also buzzes now", thread=root)
    assert [c.body for c in rows(slack.bot, TicketComment)] == ["it also buzzes now"]
    [answer] = [line for line in lines if line["to"] == GENERAL]
    assert "Added your comment to HELP-1" in answer["text"] and answer["thread"] == root

    lines = await slack.mention(BOB, GENERAL, "hello")  # a new thread of its own: an ordinary message
    assert len(rows(slack.bot, TicketComment)) == 1 and "added" not in texts(lines).lower()


async def test_was_delivered_reads_the_table_then_the_history(slack: SlackHarness) -> None:
    """A recorded key is delivered; an unrecorded one is found in the DM's history (and recorded); else not."""
    await slack.say(BOB, "hello")
    reply = Reply("IT notice: VPN maintenance", to=user_address(BOB), key="notice:9:user:bob@city.example")
    assert not await slack.channel.was_delivered(reply)
    await slack.bot.deliver(reply)
    assert await slack.channel.was_delivered(reply)
    slack.bot.db.call(lambda s: [s.delete(r) for r in s.exec(select(SlackMessage)).all()])
    assert await slack.channel.was_delivered(reply)
    [history] = slack.fake.calls_to("conversations.history")[-1:]
    assert history.args["channel"] == "D0BOB00001" and history.args["include_all_metadata"] in ("1", "true")
    [row] = rows(slack.bot, SlackMessage)
    assert (row.key, row.channel_id) == (reply.key, "D0BOB00001")
    assert not await slack.channel.was_delivered(Reply("x", to=room_address("slack", GENERAL), key="notice:9:x"))


async def test_a_sender_dying_after_slack_took_the_messages_sends_none_twice(
        sqlite_url: str, parser: EmbeddedParser) -> None:
    """Slack took two notices whose answers the sender never heard (it died); the replica that resumes finds them
    in the DMs' history by their metadata key and sends only what is missing: everyone once, nobody twice."""
    one = await SlackHarness.start(sqlite_url, parser, broadcast_two_person=False, fanout_concurrency=2)
    two = None
    try:
        await one.meet_everyone()
        draft = await one.bot.announcements.save_draft(
            read_composer({"title": "Email outage", "kind": "outage"}, one.bot.clock(), "UTC"), TOM)
        one.fake.hold("chat.postMessage", after=3)  # the progress message and two notices are answered
        sending = asyncio.create_task(one.bot.announcements.release(int(draft.id or 0)))
        while len([c for c in one.fake.calls if c.method == "chat.postMessage"]) < 5:
            await asyncio.sleep(0.01)
        sending.cancel()  # the process dies with two posts taken by Slack but unanswered
        await asyncio.gather(sending, return_exceptions=True)
        assert {d.status for d in rows(one.bot, Delivery)} >= {"sending"}
        one.fake.release.set()

        two = await SlackHarness.start(sqlite_url, parser, fake=one.fake, broadcast_two_person=False)
        two.bot.announcements.lease = timedelta(seconds=1)
        await asyncio.sleep(1.1)  # the dead sender's claims lapse
        assert await two.bot.announcements.resume() == 1
        notices = Counter(key_of(c) for c in one.fake.calls_to("chat.postMessage") if key_of(c).startswith("notice:"))
        people = ["ann", "bob", "ray", "tia"]
        assert notices == Counter({f"notice:1:user:{p}@city.example": 1 for p in people})
        assert {d.status for d in rows(two.bot, Delivery)} == {"sent"}
        assert two.fake.calls_to("conversations.history"), "the resumed sender looked before sending again"
        assert {r.key for r in rows(two.bot, SlackMessage)} >= set(notices)
    finally:
        if two is not None:
            await two.stop()
        await one.stop()
    assert one.fake.violations == []
