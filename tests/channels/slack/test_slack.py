"""The Slack channel over its real wire format: signed requests in, Web API calls (to the fake) out."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.channels.slack.blocks import OPEN_FORM
from bot.channels.slack.channel import SlackChannel
from bot.core.messages import Button, Form, FormInput, Reply, Turn, room_address, user_address
from bot.engine.context import Context
from bot.engine.skill import Intent, Skill, load_skills
from bot.nlu import EmbeddedParser
from bot.store import Approval, ChatAccount, InboxEntry, ProcessedEvent, SlackMessage
from skills.notices import Notices
from tests.channels.slack.harness import TECH_CHANNEL, SlackHarness
from tests.contracts.channel import ANN, BOB, TOM, button, rows, texts
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN

GENERAL = "C0GENERAL1"


class FormSkill(Skill):
    """A test-only skill: a button that asks for a form, and the submitted values echoed back."""

    name = "formtest"
    intents: ClassVar[tuple[Intent, ...]] = ()

    def form(self, ctx: Context) -> Form:
        """The form under test: one input of every kind."""
        return ctx.form("submitted", "x", "Outage notice", (
            FormInput("title", "Title"),
            FormInput("body", "What happened", kind="textarea", hint="Plain words"),
            FormInput("audience", "Who", kind="multichoice", choices=(("all", "All staff"), ("it", "IT"))),
            FormInput("severity", "Severity", kind="choice", choices=(("low", "Low"), ("high", "High")),
                      initial="low"),
            FormInput("when", "When", kind="datetime", optional=True),
            FormInput("urgent", "Urgent?", kind="boolean"),
        ), submit_label="Preview")

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Never called: the skill has no intents."""

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """``open`` replies with the form; ``submitted`` echoes what came back."""
        if action == "open":
            await ctx.reply("Fill in the notice.", form=self.form(ctx))
        elif action == "submitted":
            await ctx.reply("Got " + json.dumps(turn.form, sort_keys=True))


class ComposerNotices(Notices):
    """The notices skill as the announcements issue will make it: /announce answers with a composer form."""

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Announce replies with a form; the other intents as before."""
        if ctx.intent != "announce":
            await super().handle(turn, ctx)
            return
        await ctx.reply("Compose the announcement.", form=ctx.form("compose", "0", "New announcement", (
            FormInput("text", "Message", kind="textarea", initial=turn.text),
            FormInput("audience", "Send to", kind="choice", choices=(("all", "All staff"), ("it", "IT staff"))),
        ), submit_label="Preview"))

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """The composer's submission."""
        if action == "compose" and turn.form is not None:
            await ctx.reply(f"Preview for {turn.form['audience']}: {turn.form['text']}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of this test's own."""
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
async def slack(sqlite_url: str, parser: EmbeddedParser) -> AsyncIterator[SlackHarness]:
    """The bot on the fake Slack (HTTP mode), with Ray's user group as technicians."""
    harness = await SlackHarness.start(sqlite_url, parser, slack_technician_group="it-techs")
    yield harness
    await harness.stop()
    assert harness.fake.violations == []


async def test_dm_reset_through_approval_on_the_wire(slack: SlackHarness) -> None:
    """Bearer token on every call; the card goes to the technicians' channel and is updated in place."""
    lines = await slack.say(ANN, "I forgot my password")
    lines = await slack.click(ANN, button(lines, "Yes"))
    [posted] = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == TECH_CHANNEL]
    lines = await slack.click(TOM, button(lines, "Approve"))
    [update] = [c for c in slack.fake.calls_to("chat.update") if c.args["channel"] == TECH_CHANNEL]
    assert update.args["ts"] == posted.response["ts"]
    assert "Approved by tom@city.example" in update.args["text"]
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"]
    assert {c.token for c in slack.fake.calls} == {BOT_TOKEN}
    [row] = [r for r in rows(slack.bot, SlackMessage) if r.key == "approval:1"]
    assert (row.channel_id, row.ts) == (TECH_CHANNEL, posted.response["ts"])
    # Ann's Yes/No question lost its buttons and says who answered.
    asked = [c for c in slack.fake.calls_to("chat.update") if c.args["channel"].startswith("D")]
    assert asked and "chosen by <@U0ANN00001>" in json.dumps(asked[0].args["blocks"])


async def test_mention_is_answered_in_a_thread(slack: SlackHarness) -> None:
    """@helpdesk in a channel: the answer goes to that channel, in the thread of the mention."""
    lines = await slack.mention(BOB, GENERAL, "how do I connect to the VPN from home")
    [call] = slack.fake.calls_to("chat.postMessage")
    assert call.args["channel"] == GENERAL and call.args["thread_ts"]
    assert lines[0]["to"] == GENERAL and "VPN" in lines[0]["text"]
    again = await slack.mention(BOB, GENERAL, "thanks", thread=call.args["thread_ts"])
    assert again and again[0]["thread"] == call.args["thread_ts"]


async def test_private_reply_in_a_channel_is_ephemeral(slack: SlackHarness) -> None:
    """Ticket details asked for in a shared channel go only to the asker (chat.postEphemeral)."""
    lines = await slack.say(ANN, "my monitor flickers all the time")
    await slack.click(ANN, button(lines, "Submit"))
    before = len(slack.fake.calls_to("chat.postMessage"))
    await slack.mention(ANN, GENERAL, "any update on HELP-1?")
    [ephemeral] = slack.fake.calls_to("chat.postEphemeral")
    assert ephemeral.args["user"] == "U0ANN00001" and ephemeral.args["channel"] == GENERAL
    assert "HELP-1" in ephemeral.args["text"]
    assert not [c for c in slack.fake.calls_to("chat.postMessage")[before:] if "HELP-1" in c.args["text"]]


async def test_app_home_is_published(slack: SlackHarness) -> None:
    """app_home_opened publishes tickets, outages and quick actions; technicians also see pending approvals."""
    lines = await slack.say(ANN, "the copier on 3rd floor keeps jamming")
    await slack.click(ANN, button(lines, "Submit"))
    lines = await slack.say(ANN, "I forgot my password")
    await slack.click(ANN, button(lines, "Yes"))
    await slack.bot.notices.post(kind="outage", title="Email is down", body="", systems=["email"], author=TOM)
    await slack.event({"type": "app_home_opened", "user": "U0ANN00001", "channel": "D0ANN00001", "tab": "home"})
    home = json.dumps(slack.fake.home["U0ANN00001"])
    assert "HELP-1" in home and "copier" in home and "Email is down" in home and "Reset my password" in home
    assert "Pending approvals" not in home
    # Ray is a technician through the Slack user group only.
    await slack.event({"type": "app_home_opened", "user": "U0RAY00001", "channel": "D0RAY00001", "tab": "home"})
    ray_home = slack.fake.home["U0RAY00001"]
    assert "Pending approvals" in json.dumps(ray_home)
    # Approving from the App Home decides, updates the card in the channel and republishes the tab.
    lines = await slack.click("ray@city.example", "approval:1:approve")
    assert any("Approved by ray@city.example" in line["text"] for line in lines if line.get("replaces"))
    [approval] = rows(slack.bot, Approval)
    assert approval.status == "approved"
    assert "Nothing is waiting for approval" in json.dumps(slack.fake.home["U0RAY00001"])


async def test_home_quick_action_starts_in_the_dm(slack: SlackHarness) -> None:
    """A quick action on the App Home starts the conversation in the person's DM."""
    await slack.event({"type": "app_home_opened", "user": "U0BOB00001", "channel": "D0BOB00001", "tab": "home"})
    lines = await slack.click(BOB, "intent:open_ticket")
    assert lines and lines[0]["to"] == BOB and "what is the problem" in lines[0]["text"]
    lines = await slack.click(BOB, "skill:howto:ask:")
    assert [line["to"] for line in lines] == [BOB] and "What would you like to know how to do?" in lines[0]["text"]


async def test_duplicate_event_is_processed_once(slack: SlackHarness) -> None:
    """Slack's retry (X-Slack-Retry-Num, same event_id) is acked and does nothing again."""
    person = slack.fake.user_by_email(ANN)
    event = {"type": "message", "channel_type": "im", "channel": person.dm, "user": person.id, "text": "hi",
             "ts": "1700000000.000001"}
    first = await slack.event(event, event_id="Ev0DUPLICATE")
    again = await slack.event(event, event_id="Ev0DUPLICATE",
                              headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert first and again == []
    [entry] = rows(slack.bot, InboxEntry)
    assert (entry.key, entry.kind, entry.state) == ("Ev0DUPLICATE", "message", "done")


async def test_commands_and_clicks_left_in_the_inbox_are_handled_by_whoever_takes_them_over(
        slack: SlackHarness) -> None:
    """A slash command and a click are inbox rows before the ack too: rows a dead replica left not done
    are handled by the replica that takes them over, each as the listener would have."""
    assert await slack.command(ANN, "/helpdesk", "hello")
    await slack.event({"type": "app_home_opened", "user": "U0BOB00001", "channel": "D0BOB00001", "tab": "home"})
    first = await slack.click(BOB, "intent:open_ticket")
    done = {e.key: e.kind for e in rows(slack.bot, InboxEntry)}
    assert sorted(done.values()) == ["click", "command", "home"] and all(
        e.state == "done" for e in rows(slack.bot, InboxEntry))
    stale = slack.bot.clock() - slack.bot.inbox.lease - timedelta(seconds=1)
    slack.bot.db.call(lambda session: session.execute(update(InboxEntry).where(col(InboxEntry.kind) != "home")
                                                      .values(state="working", claimed_by="dead", claimed_at=stale)))
    assert await slack.bot.inbox.take_over() == 2
    await slack.bot.inbox.drain()
    again = slack.new_lines()
    assert any(line["to"] == BOB and "what is the problem" in line["text"] for line in first)
    assert any(line["to"] == BOB and "what is the problem" in line["text"] for line in again)
    assert any(line["to"] == ANN for line in again)
    assert {e.state for e in rows(slack.bot, InboxEntry)} == {"done"}


async def test_retry_to_another_replica_is_processed_once(database_url: str, parser: EmbeddedParser) -> None:
    """Two replicas on one database: the same event delivered to each is answered once (a unique constraint)."""
    one = await SlackHarness.start(database_url, parser)
    two = await SlackHarness.start(database_url, parser, fake=one.fake)
    try:
        person = one.fake.user_by_email(ANN)
        event = {"type": "message", "channel_type": "im", "channel": person.dm, "user": person.id,
                 "text": "hello", "ts": "1700000000.000002"}
        answered = await one.event(event, event_id="Ev0REPLICAS")
        two.new_lines()
        retried = await two.event(event, event_id="Ev0REPLICAS", headers={"X-Slack-Retry-Num": "1"})
        assert answered and retried == []
        # The second replica updates a message the first one posted: keys live in the database.
        await one.bot.deliver(Reply("Status: working on it", to=room_address("slack", GENERAL), key="status:1"))
        await two.bot.deliver(Reply("Status: fixed", to=room_address("slack", GENERAL), replaces="status:1"))
        [posted] = one.fake.calls_to("chat.postMessage")[-1:]
        [update] = two.fake.calls_to("chat.update")
        assert (update.args["channel"], update.args["ts"]) == (GENERAL, posted.response["ts"])
    finally:
        await two.stop()
        await one.stop()


async def test_bad_requests_are_refused(slack: SlackHarness) -> None:
    """Unsigned, wrongly signed or stale → 401 and nothing happens; malformed JSON → 400."""
    body = slack.event_body({"type": "message", "channel_type": "im", "channel": "D0ANN00001",
                             "user": "U0ANN00001", "text": "hi", "ts": "1700000000.000003"})
    assert (await slack.post(body, "application/json", signed=False))[0] == 401
    wrong = slack.signed_headers(body, secret="not-the-secret")
    assert (await slack.post(body, "application/json", signed=False, headers=wrong))[0] == 401
    stale = slack.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    assert (await slack.post(body, "application/json", signed=False, headers=stale))[0] == 401
    assert (await slack.post("{not json", "application/json"))[0] == 400
    assert (await slack.post("payload=%7Bbroken", "application/x-www-form-urlencoded"))[0] == 400
    assert slack.fake.calls == [] and rows(slack.bot, InboxEntry) == []


async def test_url_verification_and_unhandled_events(slack: SlackHarness) -> None:
    """Slack's URL check gets its challenge back; an event type the bot does not handle is acked and ignored."""
    status, text = await slack.post(json.dumps({"type": "url_verification", "challenge": "c-123",
                                                "token": "x"}), "application/json")
    assert status == 200 and "c-123" in text
    lines = await slack.event({"type": "reaction_added", "user": "U0ANN00001", "reaction": "thumbsup",
                               "item": {"type": "message", "channel": GENERAL, "ts": "1700000000.000004"}})
    assert lines == []
    lines = await slack.event({"type": "message", "subtype": "message_changed", "channel_type": "im",
                               "channel": "D0ANN00001", "hidden": True, "ts": "1700000000.000005"})
    assert lines == [] and [c.method for c in slack.fake.calls] == ["auth.test"]


async def test_429_storm_during_a_reply(slack: SlackHarness) -> None:
    """chat.postMessage answers 429 three times: the client waits Retry-After, then the reply goes out once."""
    slack.fake.fail("chat.postMessage", 429, retry_after=1)
    slack.fake.fail("chat.postMessage", 429, times=2, retry_after=0)
    lines = await slack.say(ANN, "hi")
    attempts = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts] == [429, 429, 429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert len(lines) == 1 and lines[0]["to"] == ANN


async def test_server_errors_are_retried(slack: SlackHarness) -> None:
    """A 500 and a 503 from the Web API are retried with back-off; the reply still arrives."""
    slack.fake.fail("chat.postMessage", 500)
    slack.fake.fail("chat.postMessage", 503)
    lines = await slack.say(ANN, "hi")
    assert [c.status for c in slack.fake.calls if c.method == "chat.postMessage"] == [500, 503, 200]
    assert len(lines) == 1


async def test_refused_post_is_told_to_the_employee(slack: SlackHarness) -> None:
    """The bot is not in the technicians' channel: the employee hears that Slack refused, nothing crashes."""
    lines = await slack.say(ANN, "I forgot my password")
    slack.fake.refuse("chat.postMessage", "not_in_channel")
    lines = await slack.click(ANN, button(lines, "Yes"))
    assert "Slack is not answering right now" in texts(lines, to=ANN)
    lines = await slack.say(ANN, "hi")
    assert lines and lines[0]["to"] == ANN


async def test_helpdesk_command_works_like_a_dm(slack: SlackHarness) -> None:
    """/helpdesk TEXT in a channel: the answer goes to the person's DM, never to the channel."""
    lines = await slack.command(BOB, "/helpdesk", "I forgot my password")
    assert lines and all(line["to"] == BOB for line in lines)
    assert button(lines, "Yes")
    [account] = [a for a in rows(slack.bot, ChatAccount) if a.user_id == "U0BOB00001"]
    assert account.private_conversation == "D0BOB00001"


async def test_announce_command_is_for_technicians(slack: SlackHarness) -> None:
    """/announce starts the announcement for a technician and is refused for an employee."""
    refused = await slack.command(ANN, "/announce", "email is down")
    assert "only technicians" in texts(refused)
    started = await slack.command(TOM, "/announce", "outlook is down and we are working on it")
    assert started and all(line["to"] in (TOM, "modal") for line in started)
    assert "only technicians" not in texts(started)


async def test_form_opens_as_a_modal_and_comes_back_as_a_turn(sqlite_url: str, parser: EmbeddedParser) -> None:
    """A reply with a form, answering a click (which has a trigger_id), opens a modal; its submission is a Turn."""
    harness = await SlackHarness.start(sqlite_url, parser, skills=load_skills() + [FormSkill()])
    try:
        await harness.say(TOM, "hi")
        await harness.bot.deliver(Reply("Notices", buttons=(Button("skill:formtest:open:x", "New notice"),),
                                        to=user_address(TOM)))
        harness.new_lines()
        lines = await harness.click(TOM, "skill:formtest:open:x")
        [modal] = [line for line in lines if line["to"] == "modal"]
        view = modal["view"]
        [opened] = harness.fake.calls_to("views.open")
        assert opened.args["trigger_id"].startswith("trig.")
        assert view["type"] == "modal" and view["title"]["text"] == "Outage notice"
        kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
        assert kinds == {"title": "plain_text_input", "body": "plain_text_input", "audience": "multi_static_select",
                         "severity": "static_select", "when": "plain_text_input", "urgent": "radio_buttons"}
        lines = await harness.submit(TOM, view, {
            "title": {"type": "plain_text_input", "value": "Email down <!channel>"},
            "body": {"type": "plain_text_input", "value": "Since 9"},
            "audience": {"type": "multi_static_select", "selected_options": [{"value": "all"}, {"value": "it"}]},
            "severity": {"type": "static_select", "selected_option": {"value": "high"}},
            "when": {"type": "plain_text_input", "value": None},
            "urgent": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
        })
        [answer] = lines
        assert answer["to"] == TOM
        got = json.loads(answer["text"].removeprefix("Got "))
        assert got == {"title": "Email down @\u200bchannel", "body": "Since 9", "audience": "all,it",
                       "severity": "high", "when": "", "urgent": "yes"}
        # The submitted text reached the skill as typed; on the way out it was defused: no mention can fire.
        [posted] = [c for c in harness.fake.calls_to("chat.postMessage") if "Got" in c.args["text"]]
        assert "<!channel>" not in json.dumps(posted.args["blocks"])
    finally:
        await harness.stop()
    assert harness.fake.violations == []


async def test_form_without_a_trigger_is_a_button_that_opens_it(slack: SlackHarness) -> None:
    """With no trigger_id at hand, the form goes out as a button carrying it; the click opens the modal."""
    await slack.say(TOM, "hi")
    form = Form("skill:notices:compose:1", "Announcement", (FormInput("text", "Message", kind="textarea"),),
                submit_label="Send")
    await slack.bot.deliver(Reply("Write your announcement.", form=form, to=user_address(TOM)))
    [line] = slack.new_lines()
    assert line["to"] == TOM and line["form"] == form
    lines = await slack.click(TOM, OPEN_FORM)
    [modal] = [line for line in lines if line["to"] == "modal"]
    assert modal["view"]["submit"]["text"] == "Send"
    assert json.loads(modal["view"]["private_metadata"]) == {"submit": form.submit, "conversation": "D0TOM00001"}


async def test_socket_mode_receives_and_acks_an_envelope(sqlite_url: str, parser: EmbeddedParser) -> None:
    """Socket Mode: apps.connections.open with the app token, a websocket on 127.0.0.1, envelopes acked."""
    harness = await SlackHarness.start(sqlite_url, parser)
    try:
        await harness.channel.connect_socket_mode(APP_TOKEN)
        [opened] = harness.fake.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN
        person = harness.fake.user_by_email(ANN)
        body = json.loads(harness.event_body({"type": "message", "channel_type": "im", "channel": person.dm,
                                              "user": person.id, "text": "hi", "ts": "1700000000.000009"}))
        ack = await harness.fake.envelope("events_api", body)
        assert ack["envelope_id"].startswith("env-")
        await harness.channel.drain()
        lines = harness.new_lines()
        assert lines and lines[0]["to"] == ANN
    finally:
        await harness.stop()
    assert harness.fake.violations == []


async def test_a_user_group_gives_its_members_emails(slack: SlackHarness) -> None:
    """A user group, by handle or @handle, gives its members' emails; an unknown group gives none."""
    assert await slack.channel.group_members("facilities") == [ANN, BOB]
    assert await slack.channel.group_members("@it-techs") == ["ray@city.example"]
    assert await slack.channel.group_members("nobody") == []


async def test_messages_reach_rooms_and_people(slack: SlackHarness) -> None:
    """room:slack:C… posts to that channel; user:EMAIL opens the person's DM (stored for next time)."""
    await slack.meet_everyone()
    await slack.bot.deliver(Reply("Outlook is back.", to=room_address("slack", GENERAL)))
    await slack.bot.deliver(Reply("Your ticket was closed.", to=user_address(BOB)))
    await slack.bot.deliver(Reply("And one more thing.", to=user_address(BOB)))
    channels = [c.args["channel"] for c in slack.fake.calls_to("chat.postMessage")]
    assert channels == [GENERAL, "D0BOB00001", "D0BOB00001"]
    assert len(slack.fake.calls_to("conversations.open")) == 1
    account = slack.bot.db.call(lambda s: s.exec(select(ChatAccount).where(ChatAccount.email == BOB)).first())
    assert account.private_conversation == "D0BOB00001"


async def test_person_without_an_email_is_told_why(slack: SlackHarness) -> None:
    """A deactivated user (users.info has no usable profile) gets a polite answer and no turn runs."""
    lines = await slack.event({"type": "app_mention", "channel": GENERAL, "user": "U0OLD00001",
                               "text": "<@U0HELPBOT1> hi", "ts": "1700000000.000010"})
    assert len(lines) == 1 and "email address" in lines[0]["text"] and lines[0]["private"]
    assert rows(slack.bot, ProcessedEvent) == []


def test_channel_needs_a_token(sqlite_url: str) -> None:
    """Without SLACK_BOT_TOKEN there is no Slack channel; HTTP mode also needs the signing secret."""
    from bot.app import Bot
    from bot.core.errors import ConfigError
    from tests.support import make_settings

    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackChannel(Bot(make_settings(sqlite_url)))
    channel = SlackChannel(Bot(make_settings(sqlite_url, slack_bot_token=BOT_TOKEN)))
    from aiohttp import web
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        channel.attach(web.Application())


async def test_announce_command_opens_the_composer_modal(sqlite_url: str, parser: EmbeddedParser) -> None:
    """/announce TEXT with a composer form: the command's trigger_id opens the modal, its submission is a Turn."""
    skills = [s for s in load_skills() if s.name != "notices"] + [ComposerNotices()]
    harness = await SlackHarness.start(sqlite_url, parser, skills=skills)
    try:
        lines = await harness.command(TOM, "/announce", "outlook is down")
        [modal] = lines
        assert modal["to"] == "modal" and harness.fake.calls_to("views.open")[0].args["trigger_id"].startswith("trig.")
        view = modal["view"]
        assert view["blocks"][0]["element"]["initial_value"] == "outlook is down"
        lines = await harness.submit(TOM, view, {
            "text": {"type": "plain_text_input", "value": "Outlook is down; we are on it."},
            "audience": {"type": "static_select", "selected_option": {"value": "all"}},
        })
        assert [line["text"] for line in lines] == ["Preview for all: Outlook is down; we are on it."]
        assert lines[0]["to"] == TOM
    finally:
        await harness.stop()
    assert harness.fake.violations == []
