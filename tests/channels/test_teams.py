"""The Teams channel end to end: activities over HTTP in, a fake Bot Connector recording what goes out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.channels.teams import TeamsChannel, check_teams_settings
from bot.context import Context
from bot.errors import ConfigError
from bot.messages import Form, FormInput, Reply, Turn, room_address, user_address
from bot.nlu import EmbeddedParser
from bot.server import build_web_app
from bot.skill import Skill, load_skills
from bot.store import Approval
from bot.store.models import TeamsConversation, TeamsMessage
from tests.channels.contract import ANN, BOB, TOM, button, texts
from tests.channels.teams_harness import (
    BOT_ID, GENERAL_CHANNEL, TEAM, TECH_CHANNEL, TENANT, TeamsHarness, running_teams,
)
from tests.fakes.teams_connector import FakeConnector, serve_locally
from tests.support import Clock, make_settings

TESS = "tess@city.example"  # a technician only because she is in the technicians' channel


class FormProbe(Skill):
    """A test skill: keeps what a submitted form carried."""

    name = "formprobe"
    received: ClassVar[list[tuple[str, str, dict[str, str] | None]]] = []

    async def on_click(self, turn: Turn, ctx: Context, action: str, argument: str) -> None:
        """Record the submission and say so."""
        self.received.append((action, argument, turn.form))
        await ctx.reply("Got the form.")


def _rows(bot: Bot, model: type) -> list[Any]:
    return list(bot.db.call(lambda s: s.exec(select(model).order_by(model.id)).all()))


@pytest.fixture
async def teams(database_url: str, parser: EmbeddedParser, clock: Clock) -> AsyncIterator[TeamsHarness]:
    """A Teams-only bot (with the form probe skill) behind /api/messages and a fake connector."""
    async with running_teams(database_url, parser, clock, [*load_skills(), FormProbe()]) as harness:
        yield harness


async def test_personal_chat_reset_approved_in_the_technicians_channel(teams: TeamsHarness) -> None:
    """Ask in the personal chat, approve by invoke in the channel: the card refreshes, a second click does nothing."""
    lines = await teams.say(ANN, "I forgot my password")
    first = teams.connector.posts()[0]
    assert first.conversation_id == teams.user(ANN).personal and first.body["from"]["id"] == BOT_ID
    actions = first.body["attachments"][0]["content"]["actions"]
    assert {a["type"] for a in actions} == {"Action.Execute"} and button(lines, "Yes") in {a["verb"] for a in actions}
    member_lookups = [c for c in teams.connector.calls if c.method == "GET" and "/members/" in c.path]
    assert member_lookups and member_lookups[0].path.endswith(f"/members/{teams.user(ANN).id}")

    lines = await teams.click(ANN, button(lines, "Yes"))
    [card] = [line for line in lines if line["to"] == "technicians"]
    assert "Approval needed" in card["text"]
    assert "Requested by: ann@city.example" in card["text"]

    status, answer = await teams.invoke(TOM, button([card], "Approve"), {"helpdesk_action": button([card], "Approve")})
    lines = teams.new_lines()
    assert status == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Approved by tom@city.example" in answer["value"]["body"][0]["text"] and "actions" not in answer["value"]
    [update] = [line for line in lines if line.get("replaces")]
    assert update["to"] == "technicians" and update["buttons"] == []
    put = [c for c in teams.connector.calls if c.method == "PUT"][0]
    assert put.conversation_id == TECH_CHANNEL and put.activity_id == _rows(teams.bot, TeamsMessage)[0].activity_id
    assert "approved by tom@city.example" in texts(lines, to=ANN)

    again = await teams.click(TOM, button([card], "Approve"))
    assert "Not done" in texts(again, to=TOM) and all(line["to"] != "technicians" for line in again)
    assert any(c.path == "/v3/conversations" for c in teams.connector.calls)  # Tom's personal chat was created
    [approval] = _rows(teams.bot, Approval)
    assert approval.status == "approved" and approval.decided_by == TOM


async def test_technician_by_membership_of_the_technicians_channel(teams: TeamsHarness) -> None:
    """Someone not in HELPDESK_TECHNICIANS but in the technicians' channel may approve."""
    teams.user(TESS, technician_channel=True)
    lines = await teams.say(ANN, "I forgot my password")
    lines = await teams.click(ANN, button(lines, "Yes"))
    card = [line for line in lines if line["to"] == "technicians"]
    await teams.click(TESS, button(card, "Approve"))
    [approval] = _rows(teams.bot, Approval)
    assert approval.status == "approved" and approval.decided_by == TESS

    lines = await teams.say(BOB, "I forgot my password")
    lines = await teams.click(BOB, button(lines, "Yes"))
    card = [line for line in lines if line["to"] == "technicians"]
    refused = await teams.click(ANN, button(card, "Approve"))
    assert "Not done" in texts(refused) and _rows(teams.bot, Approval)[1].status == "pending"


async def test_mention_in_a_channel_is_answered_in_its_thread(teams: TeamsHarness) -> None:
    """An @mention in a team channel: the mention is stripped and the reply goes into that post's thread."""
    lines = await teams.mention(BOB, "I forgot my password")
    [reply] = [c for c in teams.connector.posts()]
    assert reply.conversation_id.startswith(f"{GENERAL_CHANNEL};messageid=act-")
    assert reply.activity_id == reply.conversation_id.split("=")[1]  # POST .../activities/{replyToId}
    assert "reset" in texts(lines).lower() and "<at>" not in texts(lines)
    [row] = [r for r in _rows(teams.bot, TeamsConversation) if r.kind == "channel"]
    assert row.team_id == TEAM and row.tenant_id == TENANT


async def test_group_chat_is_answered_in_the_group_and_private_parts_go_to_the_personal_chat(
    teams: TeamsHarness,
) -> None:
    """In a group chat the bot answers in the chat (not a thread); a ticket's status still goes to the personal chat."""
    group = "19:group-chat-1@thread.v2"
    lines = await teams.say(ANN, "my monitor flickers all the time")
    await teams.click(ANN, button(lines, "Submit"))
    await teams.send(teams.activity(ANN, group, "groupChat", text="<at>Helpdesk</at> hi"))
    hello = teams.connector.posts()[-1]
    assert hello.path == f"/v3/conversations/{group}/activities" and teams.new_lines()[0]["to"] == group
    await teams.send(teams.activity(ANN, group, "groupChat", text="<at>Helpdesk</at> any update on HELP-1?"))
    lines = teams.new_lines()
    assert "Status: open" in texts(lines, to=ANN) and "HELP-1" not in texts(lines, to=group)


async def test_a_card_is_updated_after_a_restart(teams: TeamsHarness, parser: EmbeddedParser, clock: Clock) -> None:
    """The approval card's activity id is in the database, so a new process (or replica) updates it in place."""
    lines = await teams.say(ANN, "I forgot my password")
    lines = await teams.click(ANN, button(lines, "Yes"))
    approve = button([line for line in lines if line["to"] == "technicians"], "Approve")
    restarted = Bot(teams.bot.settings, nlu=parser, clock=clock)
    restarted.start()
    other = await TeamsHarness(restarted, teams.connector).start()
    other.users, other._shown, other._ids = teams.users, teams._shown, teams._ids  # the same Teams tenant
    other._seen = len(teams.connector.posts())
    try:
        lines = await other.click(TOM, approve)
    finally:
        await other.stop()
        restarted.close()
    [update] = [line for line in lines if line.get("replaces")]
    assert "Approved by tom@city.example" in update["text"]
    assert update["replaces"].endswith(_rows(teams.bot, TeamsMessage)[0].activity_id)


async def test_private_content_asked_in_a_channel_goes_to_the_personal_chat(teams: TeamsHarness) -> None:
    """A ticket's status asked in a channel is answered in the employee's personal chat only."""
    lines = await teams.say(ANN, "my laptop fan is very loud and the laptop gets hot")
    await teams.click(ANN, button(lines, "Submit"))
    lines = await teams.mention(ANN, "any update on HELP-1?")
    assert "Status: open" in texts(lines, to=ANN)
    assert "HELP-1" not in "\n".join(line["text"] for line in lines if line["to"] != ANN)


async def test_conversation_and_installation_updates_store_references(teams: TeamsHarness) -> None:
    """Adding the bot to a team and installing it personally store references; both receive proactive sends."""
    added = teams.activity(TOM, GENERAL_CHANNEL, "channel", type="conversationUpdate",
                           membersAdded=[{"id": BOT_ID}])
    added["conversation"]["id"] = GENERAL_CHANNEL
    await teams.send(added)
    cara = teams.user("cara@city.example")
    await teams.send(teams.activity(cara.email, cara.personal, "personal", type="installationUpdate", action="add"))
    removed = teams.activity(TOM, "19:elsewhere@thread.tacv2", "channel", type="conversationUpdate",
                             membersRemoved=[{"id": BOT_ID}])
    removed["conversation"]["id"] = "19:elsewhere@thread.tacv2"
    await teams.send(removed)  # taken out of a team: nothing to keep
    assert teams.connector.posts() == []
    rows = {r.conversation_id: r for r in _rows(teams.bot, TeamsConversation)}
    assert "19:elsewhere@thread.tacv2" not in rows
    assert rows[GENERAL_CHANNEL].kind == "channel" and rows[GENERAL_CHANNEL].team_id == TEAM
    assert rows[cara.personal].kind == "personal" and rows[cara.personal].email == cara.email
    assert rows[cara.personal].reference["serviceUrl"] == teams.connector.url

    await teams.bot.deliver(Reply("Your ticket HELP-9 was updated.", to=user_address(cara.email), private=True))
    await teams.bot.deliver(Reply("IT notice: Outlook is down.", to=room_address("teams", GENERAL_CHANNEL)))
    lines = teams.new_lines()
    assert [(line["to"], line["text"]) for line in lines] == [
        (cara.email, "Your ticket HELP-9 was updated."), (GENERAL_CHANNEL, "IT notice: Outlook is down.")]
    channel_post = teams.connector.posts()[-1]
    assert channel_post.path == f"/v3/conversations/{GENERAL_CHANNEL}/activities"  # a new post, not a reply


async def test_announcement_reaches_employees_in_their_personal_chats(teams: TeamsHarness) -> None:
    """A technician's notice goes out proactively to everyone the bot knows, each in their personal chat."""
    await teams.say(ANN, "hi")
    await teams.say(BOB, "hi")
    lines = await teams.say(TOM, "send a notice to all staff: outlook is down and we are working on it")
    lines = await teams.click(TOM, button(lines, "Send it"))
    assert "IT notice" in texts(lines, to=ANN) and "IT notice" in texts(lines, to=BOB)


async def test_someone_the_members_api_does_not_know_is_told_so(teams: TeamsHarness) -> None:
    """No email from the members API: no turn, a short apology, and nothing stored for them."""
    stranger = teams.activity(ANN, "a:personal-ghost", "personal", text="hi")
    stranger["from"] = {"id": "29:ghost", "aadObjectId": "aad-ghost"}
    await teams.send(stranger)
    [line] = teams.new_lines()
    assert "could not look up who you are" in line["text"]
    assert all(row.user_id != "aad-ghost" for row in _rows(teams.bot, TeamsConversation))


async def test_message_markup_is_read_as_plain_text(teams: TeamsHarness) -> None:
    """Teams' HTML (paragraphs, entities, other people's mentions) is stripped before the NLU reads it."""
    person = teams.user(ANN)
    await teams.send(teams.activity(ANN, person.personal, "personal", text="<p>I&nbsp;forgot my&nbsp;password</p>"))
    assert "reset" in texts(teams.new_lines()).lower()


async def test_card_text_is_not_markdown(teams: TeamsHarness) -> None:
    """What a user typed cannot become a link or formatting in a card; line breaks survive."""
    lines = await teams.say(ANN, "the printer on the 2nd floor keeps jamming [photo](https://evil.example) *again*")
    card = teams.connector.posts()[-1].body["attachments"][0]["content"]
    shown = json_text(card)
    assert "\\[photo\\](https://evil.example)" in shown and "\\*again\\*" in shown
    assert "[photo](https://evil.example) *again*" in texts(lines)
    await teams.say(ANN, "what can you do")
    help_text = teams.connector.posts()[-1].body["attachments"][0]["content"]["body"][0]["text"]
    assert "\n\n•" in help_text


def json_text(card: dict[str, Any]) -> str:
    """Every text in a card, joined."""
    return "\n".join([b["text"] for b in card["body"] if b["type"] == "TextBlock"]
                     + [f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]])


async def test_duplicate_activity_is_processed_once(teams: TeamsHarness) -> None:
    """The connector retrying an activity (same id) gets a 202 and no second answer."""
    person = teams.user(ANN)
    activity = teams.activity(ANN, person.personal, "personal", text="hi")
    await teams.send(activity)
    first = teams.new_lines()
    await teams.send(activity)
    assert first and teams.new_lines() == []


async def test_connector_throttling_is_retried(teams: TeamsHarness) -> None:
    """A 429 (with Retry-After) and a 503 from the connector are retried; the reply arrives once."""
    await teams.say(ANN, "hi")
    teams.connector.fail(429, times=1, retry_after="0")
    teams.connector.fail(503, times=1)
    lines = await teams.say(ANN, "thanks")
    sends = [c for c in teams.connector.calls if c.method == "POST" and c.conversation_id == teams.user(ANN).personal]
    assert len(lines) == 1 and lines[0]["to"] == ANN
    assert len(sends) == 2 + 2  # the first reply, then two failures and the retry that got through


async def test_connector_that_keeps_failing_loses_the_reply_but_not_the_bot(teams: TeamsHarness) -> None:
    """When every retry fails, the turn ends with a clear apology; the next message is answered again."""
    await teams.say(ANN, "hi")
    teams.connector.fail(500, times=teams.bot.settings.teams_retry_attempts)
    lines = await teams.say(ANN, "hello")
    assert texts(lines, to=ANN).startswith("Microsoft Teams is not answering right now")
    assert await teams.say(ANN, "hello again")


async def test_malformed_activities_get_400_and_unknown_types_are_ignored(teams: TeamsHarness) -> None:
    """Broken JSON or a missing type/conversation is a 400; an unknown activity type is accepted and ignored."""
    assert (await teams.post("{not json"))[0] == 400
    assert (await teams.post({"text": "hi"}))[0] == 400
    assert (await teams.post({"type": "message", "serviceUrl": teams.connector.url}))[0] == 400
    broken = teams.activity(ANN, teams.user(ANN).personal, "personal", text="hi")
    broken["from"] = "not an account"
    assert (await teams.post(broken))[0] == 400
    status, _ = await teams.post(teams.activity(ANN, teams.user(ANN).personal, "personal", type="messageReaction",
                                                reactionsAdded=[{"type": "like"}]))
    assert status == 202
    status, _ = await teams.post(teams.activity(ANN, teams.user(ANN).personal, "personal", type="somethingNew"))
    assert status == 202
    assert teams.connector.posts() == []


async def test_a_form_renders_as_inputs_and_its_submission_becomes_a_turn(teams: TeamsHarness) -> None:
    """Form inputs become Input.* elements; the submitted values come back as ``turn.form`` strings."""
    await teams.say(ANN, "hi")
    form = Form("skill:formprobe:save:7", "Compose an announcement", (
        FormInput("title", "Title"),
        FormInput("body", "Message", "textarea", hint="What happened"),
        FormInput("kind", "Kind", "choice", (("outage", "Outage"), ("maintenance", "Maintenance"))),
        FormInput("rooms", "Post in", "multichoice", (("general", "General"), ("it", "IT"))),
        FormInput("urgent", "Urgent", "boolean", optional=True),
        FormInput("when", "When", "datetime", optional=True, initial="now"),
    ), submit_label="Preview")
    FormProbe.received.clear()
    await teams.bot.deliver(Reply("Fill this in:", form=form, to=user_address(ANN)))
    [line] = teams.new_lines()
    inputs = {i["id"]: i for i in line["form"]["inputs"]}
    assert inputs["title"]["type"] == "Input.Text" and inputs["title"]["isRequired"] is True
    assert inputs["body"]["isMultiline"] is True and inputs["body"]["placeholder"] == "What happened"
    assert inputs["kind"]["type"] == "Input.ChoiceSet" and inputs["kind"]["isMultiSelect"] is False
    assert inputs["rooms"]["isMultiSelect"] is True
    assert inputs["urgent"]["type"] == "Input.Toggle" and inputs["urgent"]["valueOn"] == "yes"
    assert inputs["when"]["value"] == "now"

    lines = await teams.submit(ANN, form.submit, {"title": "Outlook down", "body": "Mail is slow", "kind": "outage",
                                                 "rooms": "general,it", "urgent": "yes", "when": "Sat 6am"})
    assert texts(lines, to=ANN) == "Got the form."
    assert FormProbe.received == [("save", "7", {"title": "Outlook down", "body": "Mail is slow", "kind": "outage",
                                                 "rooms": "general,it", "urgent": "yes", "when": "Sat 6am"})]


async def test_bad_or_missing_token_is_refused_when_anonymous_access_is_off(
    database_url: str, parser: EmbeddedParser, clock: Clock,
) -> None:
    """With an app id and no anonymous access, a request without a valid JWT gets 401 and reaches no handler."""
    import aiohttp

    settings = make_settings(database_url, teams_app_id="6f1c1f27-1111-4a2b-9c3d-123456789abc",
                             teams_app_password="not-a-real-secret", teams_tenant_id=TENANT,
                             teams_technician_channel=TECH_CHANNEL)
    bot = Bot(settings, nlu=parser, clock=clock)
    bot.start()
    connector = await FakeConnector().start()
    channel = TeamsChannel(bot)
    bot.add_channel(channel)
    app = build_web_app(bot)
    channel.mount(app)
    runner, port = await serve_locally(app)
    url = f"http://127.0.0.1:{port}/api/messages"
    activity = {"type": "message", "id": "x1", "channelId": "msteams", "serviceUrl": connector.url, "text": "hi",
                "from": {"id": "29:ann", "aadObjectId": "aad-ann"}, "recipient": {"id": BOT_ID},
                "conversation": {"id": "a:personal-ann", "conversationType": "personal"}}
    try:
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}):
                async with session.post(url, json=activity, headers=headers) as response:
                    assert response.status == 401, headers
            async with session.get(url.replace("/api/messages", "/healthz")) as response:
                assert response.status == 200  # the token check guards /api/messages only
    finally:
        await runner.cleanup()
        await connector.stop()
        bot.close()
    assert connector.calls == []


def test_anonymous_access_is_refused_off_loopback(tmp_path: Any) -> None:
    """HELPDESK_TEAMS_ALLOW_ANONYMOUS on a non-loopback host stops start-up with one line."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    check_teams_settings(make_settings(url, teams_allow_anonymous=True, host="127.0.0.1"))
    check_teams_settings(make_settings(url, teams_allow_anonymous=True, host="::1"))
    for host in ("0.0.0.0", "10.1.2.3", "bot.city.example"):
        with pytest.raises(ConfigError) as raised:
            check_teams_settings(make_settings(url, teams_allow_anonymous=True, host=host))
        assert "HELPDESK_TEAMS_ALLOW_ANONYMOUS" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match="HELPDESK_TEAMS_APP_PASSWORD"):
        check_teams_settings(make_settings(url, teams_app_id="6f1c1f27-1111-4a2b-9c3d-123456789abc",
                                           teams_tenant_id=TENANT))


def test_the_app_password_never_reaches_the_logs(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Building the channel logs its connection settings (the SDK does), with the secret masked."""
    caplog.set_level("DEBUG")
    settings = make_settings(f"sqlite:///{tmp_path / 'h.db'}", teams_app_id="6f1c1f27-1111-4a2b-9c3d-123456789abc",
                             teams_app_password="s3cret-Value-42", teams_tenant_id=TENANT)
    bot = Bot(settings)
    try:
        TeamsChannel(bot)
    finally:
        bot.close()
    assert "CLIENTSECRET" in caplog.text and "s3cret-Value-42" not in caplog.text
    assert "s3cret-Value-42" not in repr(settings)
