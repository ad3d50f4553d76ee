"""The Teams channel end to end: activities over HTTP in, a fake Bot Connector recording what goes out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.app import Bot
from bot.channels.teams.channel import TeamsChannel, check_teams_settings
from bot.core.errors import ConfigError
from bot.core.messages import Form, FormInput, Reply, Turn, room_address, user_address
from bot.engine.context import Context
from bot.engine.skill import Skill, load_skills
from bot.nlu import EmbeddedParser
from bot.services.announcement_composer import read_composer
from bot.services.broadcast_approval import content_digest
from bot.store import Announcement, Approval, Delivery, InboxEntry, TicketComment
from bot.store.models import TeamsConversation, TeamsMessage
from bot.surfaces.server import build_web_app
from tests.channels.teams.harness import (
    BOT_ID,
    GENERAL_CHANNEL,
    TEAM,
    TECH_CHANNEL,
    TENANT,
    TeamsHarness,
    running_teams,
)
from tests.contracts.channel import ANN, BOB, TOM, button, texts
from tests.fakes.teams_connector import FakeConnector, serve_locally
from tests.support import Clock, make_settings

TESS = "tess@city.example"  # a technician only because she is in the technicians' channel
TIA = "tia@city.example"


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
    guide, offer = teams.connector.posts()[:2]  # the self-service guide first, then the offer to reset
    assert guide.conversation_id == offer.conversation_id == teams.user(ANN).personal
    assert offer.body["from"]["id"] == BOT_ID
    actions = offer.body["attachments"][0]["content"]["actions"]
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
    approve = button(card, "Approve")
    status, refused = await teams.invoke(ANN, approve, {"helpdesk_action": approve})  # not on the roster
    assert status == 200 and "only IT technicians" in refused["value"] and teams.new_lines() == []
    assert _rows(teams.bot, Approval)[1].status == "pending"


async def test_mention_in_a_channel_is_answered_in_its_thread(teams: TeamsHarness) -> None:
    """An @mention in a team channel: the mention is stripped and the reply goes into that post's thread."""
    lines = await teams.mention(BOB, "I forgot my password")
    replies = teams.connector.posts()
    assert len(replies) == 2  # the self-service guide, then the offer to reset
    for reply in replies:
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


def form_values(line: dict[str, Any], **changes: str) -> dict[str, str]:
    """What Teams sends for a card's inputs left as shown (each input's value by its id), with ``changes``."""
    values = {str(i["id"]): str(i.get("value", "")) for i in line["form"]["inputs"]}
    values.update(changes)
    return values


async def compose(teams: TeamsHarness, user: str, text: str, **changes: str) -> list[dict[str, Any]]:
    """``user`` types ``text``, gets the composer card and submits it with ``changes``; the preview lines."""
    [composer] = [line for line in await teams.say(user, text) if "form" in line]
    return await teams.submit(user, composer["form"]["submit"], form_values(composer, **changes))


async def add_bot_to_general(teams: TeamsHarness) -> None:
    """The bot is added to the team: Teams tells it about the General channel (its reference is stored)."""
    added = teams.activity(TOM, GENERAL_CHANNEL, "channel", type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    added["conversation"]["id"] = GENERAL_CHANNEL
    await teams.send(added)


async def test_announcement_reaches_employees_in_their_personal_chats(teams: TeamsHarness) -> None:
    """Composer card → submitted inputs → preview → a second technician approves in the technicians'
    channel → each employee gets the notice proactively in their personal chat."""
    for person in (ANN, BOB, TIA):
        await teams.say(person, "hi")
    lines = await teams.say(TOM, "send a notice to all staff: outlook is down and we are working on it")
    [composer] = [line for line in lines if "form" in line]
    assert composer["to"] == TOM and composer["private"]
    inputs = {i["id"]: i for i in composer["form"]["inputs"]}
    assert inputs["kind"]["type"] == "Input.ChoiceSet" and inputs["kind"]["value"] == "outage"
    assert inputs["title"]["value"] == "Outlook is down and we are working on it"
    assert inputs["ack"]["type"] == "Input.Toggle"

    preview = await teams.submit(TOM, composer["form"]["submit"], form_values(composer))
    assert "Audience: all staff" in texts(preview, to=TOM)
    asked = await teams.click(TOM, button(preview, "Ask for approval"))
    [approval] = [line for line in asked if line["to"] == "technicians"]
    assert "send notice #1 to all staff" in approval["text"]
    assert "Not done" in texts(await teams.click(TOM, button([approval], "Approve")))  # not their own
    assert [c for c in teams.connector.posts() if "IT outage" in json.dumps(c.body)] == []

    sent = await teams.click(TIA, button([approval], "Approve"))
    notices = [line for line in sent if line["text"].startswith("IT outage: Outlook is down")]
    assert sorted(line["to"] for line in notices) == [ANN, BOB, TIA] and all(line["private"] for line in notices)
    for person in (ANN, BOB, TIA):
        [post] = [c for c in teams.connector.posts() if "IT outage" in json.dumps(c.body)
                  and c.conversation_id == teams.user(person).personal]
        assert post.path == f"/v3/conversations/{teams.user(person).personal}/activities"  # proactive, not a reply
    assert "Sent notice #1 to 3 people." in texts(sent, to=TOM)
    kept = {row.key for row in _rows(teams.bot, TeamsMessage)}
    assert {f"notice:1:user:{person}" for person in (ANN, BOB, TIA)} <= kept


async def test_follow_ups_go_into_the_channel_thread_and_plainly_to_personal_chats(teams: TeamsHarness) -> None:
    """"Post an update" and "Resolved": in the team channel a reply in the original post's reply chain;
    in a personal chat a plain message."""
    await add_bot_to_general(teams)
    await teams.say(ANN, "hi")
    preview = await compose(teams, TOM, "announce email outage", channels=f"teams:{GENERAL_CHANNEL}")
    asked = await teams.click(TOM, button(preview, "Ask for approval"))
    sent = await teams.click(TIA, button([line for line in asked if line["to"] == "technicians"], "Approve"))
    [original] = [c for c in teams.connector.posts() if c.conversation_id == GENERAL_CHANNEL]
    assert original.path == f"/v3/conversations/{GENERAL_CHANNEL}/activities"  # a new post in the channel
    assert {line["to"] for line in sent if line["text"].startswith("IT outage")} == {ANN, TIA, GENERAL_CHANNEL}

    [form] = [line for line in await teams.click(TOM, button(sent, "Post an update")) if "form" in line]
    lines = await teams.submit(TOM, form["form"]["submit"], {"text": "A fix is rolling out."})
    updates = {line["to"]: line for line in lines if line["text"].startswith("Update:")}
    assert set(updates) == {ANN, TIA, GENERAL_CHANNEL}
    assert updates[GENERAL_CHANNEL]["thread"] == original.response_id and "thread" not in updates[ANN]
    reply = [c for c in teams.connector.posts() if c.conversation_id.startswith(f"{GENERAL_CHANNEL};")][-1]
    thread = f"{GENERAL_CHANNEL};messageid={original.response_id}"
    assert reply.path == f"/v3/conversations/{thread}/activities/{original.response_id}"
    assert reply.body["replyToId"] == original.response_id and reply.body["conversation"]["id"] == thread
    personal = [c for c in teams.connector.posts() if c.conversation_id == teams.user(ANN).personal][-1]
    assert personal.path.endswith(f"{teams.user(ANN).personal}/activities") and "replyToId" not in personal.body

    [form] = [line for line in await teams.click(TOM, button(sent, "Resolved")) if "form" in line]
    lines = await teams.submit(TOM, form["form"]["submit"], form_values(form))
    resolved = [line for line in lines if line["text"].startswith("Update: Resolved")]
    assert {line["to"] for line in resolved} == {ANN, TIA, GENERAL_CHANNEL}
    assert [line["thread"] for line in resolved if line["to"] == GENERAL_CHANNEL] == [original.response_id]


async def test_channel_mention_pages_the_channel_and_typed_mentions_stay_defused(teams: TeamsHarness) -> None:
    """With "Page the listed channels" on, the channel post carries a real Teams channel mention; the
    text's own @channel and <at> tags cannot page anyone, and a personal chat gets no mention."""
    await add_bot_to_general(teams)
    preview = await compose(teams, TOM, "announce printer maintenance", audience="listed", departments="",
                            channels=f"teams:{GENERAL_CHANNEL}", mentions="yes",
                            body="Hi @channel <at>team</at> and <AT>General</at>, printers restart at noon.")
    sent = await teams.click(TOM, button(preview, "Send it"))
    [post] = [line for line in sent if line["to"] == GENERAL_CHANNEL]
    assert post["mention"] == {"id": GENERAL_CHANNEL, "name": "channel", "type": "channel"}
    card = [c for c in teams.connector.posts() if c.conversation_id == GENERAL_CHANNEL][-1].body
    content = card["attachments"][0]["content"]
    assert content["msteams"]["entities"] == [{"type": "mention", "text": "<at>channel</at>",
                                               "mentioned": {"id": GENERAL_CHANNEL, "name": "channel",
                                                             "type": "channel"}}]
    shown = json_text(content)
    assert shown.startswith("<at>channel</at> ") and shown.count("<at>") == 1  # only ours
    assert "<\u200bat>team<\u200b/at>" in shown and "<\u200bAT>General" in shown and "@\u200bchannel" in shown

    await teams.say(ANN, "hi")
    await teams.bot.deliver(Reply("Heads up", to=user_address(ANN), mention="everyone"))
    [line] = teams.new_lines()
    assert "mention" not in line and "msteams" not in teams.connector.posts()[-1].body["attachments"][0]["content"]
    await teams.bot.deliver(Reply("Heads up", to=room_address("teams", GENERAL_CHANNEL), mention="everyone"))
    [line] = teams.new_lines()
    assert line["mention"] == {"id": TEAM, "name": "team", "type": "team"}  # @everyone: the whole team


async def test_delivery_check_reads_the_teams_message_table(teams: TeamsHarness) -> None:
    """A resumed fan-out asks the channel first: what the table shows as posted is not sent again;
    a post that was never recorded (the crash window) is sent again."""
    await add_bot_to_general(teams)
    for person in (ANN, BOB):
        await teams.say(person, "hi")
    preview = await compose(teams, TOM, "announce vpn maintenance", audience="listed", departments="",
                            channels=f"teams:{GENERAL_CHANNEL}")
    await teams.click(TOM, button(preview, "Send it"))
    [row] = _rows(teams.bot, Announcement)
    room = room_address("teams", GENERAL_CHANNEL)
    service = teams.bot.announcements
    assert await teams.channel.was_delivered(service.message(row, room, None))
    assert not await teams.channel.was_delivered(service.message(row, user_address(ANN), None))  # not a recipient
    assert not await teams.channel.was_delivered(
        service.message(row, room_address("teams", "19:other@thread.tacv2"), None))

    draft = await service.save_draft(read_composer({"title": "Badge readers", "kind": "general"},
                                                   teams.bot.clock(), "UTC"), TOM)
    await service.release(int(draft.id or 0), "tia@city.example", digest=content_digest(draft))  # approved
    posted = len(teams.connector.posts())
    assert await teams.channel.was_delivered(service.message(draft, user_address(ANN), None))
    # The sender "died" after posting and before recording: the rows are still claimed, the claims lapse.
    stale = teams.bot.clock() - service.lease - timedelta(seconds=1)
    teams.bot.db.call(lambda s: s.execute(update(Delivery).where(col(Delivery.announcement_id) == draft.id)
                                          .values(status="sending", claimed_at=stale, attempts=1, sent_at=None)))
    teams.bot.db.call(lambda s: s.execute(update(Announcement).where(col(Announcement.id) == draft.id)
                                          .values(status="sending")))
    teams.bot.db.call(lambda s: s.execute(delete(TeamsMessage).where(
        col(TeamsMessage.key) == f"notice:{draft.id}:user:{BOB}")))  # Bob's post never got recorded
    teams.new_lines()
    assert await service.resume() == 1
    again = [line["to"] for line in teams.new_lines() if line["text"].startswith("IT notice: Badge readers")]
    assert again == [BOB] and len(teams.connector.posts()) > posted
    assert {d.status for d in _rows(teams.bot, Delivery) if d.announcement_id == draft.id} == {"sent"}


class RecordingBot(Bot):
    """The real bot, keeping each turn the channel hands it (so a test can read what the channel filled in)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turns: list[Turn] = []

    async def handle(self, turn: Turn, *, deduplicated: bool = False) -> None:
        """Keep the turn, then handle it as the bot does."""
        self.turns.append(turn)
        await super().handle(turn, deduplicated=deduplicated)


@pytest.fixture
async def recorded(database_url: str, parser: EmbeddedParser, clock: Clock) -> AsyncIterator[TeamsHarness]:
    """A Teams bot that keeps the turns its channel built."""
    async with running_teams(database_url, parser, clock, bot_class=RecordingBot) as harness:
        yield harness


def last_turn(teams: TeamsHarness) -> Turn:
    """The newest turn the channel handed to the bot."""
    assert isinstance(teams.bot, RecordingBot)
    return teams.bot.turns[-1]


async def test_a_reply_in_a_keyed_messages_chain_carries_its_key(recorded: TeamsHarness) -> None:
    """A channel message in the reply chain of a keyed bot message: ``Turn.thread_key`` is that key
    (the thread's root, or the bot's newest keyed message in a thread a person started)."""
    teams = recorded
    await add_bot_to_general(teams)
    await teams.bot.deliver(Reply("Printers restart at noon.", to=room_address("teams", GENERAL_CHANNEL),
                                  key="notices:probe"))
    [root] = [c for c in teams.connector.posts() if c.conversation_id == GENERAL_CHANNEL]
    await teams.reply_in_thread(BOB, str(root.response_id), "does that include the 3rd floor?")
    assert last_turn(teams).thread_key == "notices:probe"

    lines = await teams.mention(ANN, "my monitor flickers all the time")
    post = str(last_turn(teams).event_id)
    assert last_turn(teams).thread_key is None  # a new post
    done = await teams.click(ANN, button(lines, "Submit"))
    assert "ticket HELP-1 is open" in texts(done) and [line["thread"] for line in done
                                                         if "HELP-1 is open" in line["text"]] == [post]
    await teams.reply_in_thread(ANN, post, "it also buzzes")
    assert last_turn(teams).thread_key == "tickets:HELP-1"

    await teams.reply_in_thread(BOB, "some-post-of-someone", "nothing of the bot's here")
    assert last_turn(teams).thread_key is None
    await teams.say(BOB, "hi")
    assert last_turn(teams).thread_key is None  # personal chats have no reply chains


async def test_a_reply_under_the_ticket_message_is_a_comment(teams: TeamsHarness) -> None:
    """End to end: a reply in the thread of "ticket HELP-1 is open" becomes a comment on HELP-1."""
    lines = await teams.mention(ANN, "my monitor flickers all the time")
    await teams.click(ANN, button(lines, "Submit"))
    [done] = [line for line in teams.connector.posts() if "HELP-1 is open" in json.dumps(line.body)]
    root = done.conversation_id.partition(";messageid=")[2]
    lines = await teams.reply_in_thread(ANN, root, "it also buzzes when it flickers")
    assert "Added your comment to HELP-1" in texts(lines)
    assert [c.body for c in _rows(teams.bot, TicketComment)] == ["it also buzzes when it flickers"]


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


async def test_an_activity_acknowledged_before_a_crash_is_handled_after_it(teams: TeamsHarness) -> None:
    """The message is in the inbox (sender resolved) before the 202; a row a dead replica left not done is
    handled, once, by whoever takes it over after the lease; its retry from the connector changes nothing."""
    person = teams.user(ANN)
    activity = teams.activity(ANN, person.personal, "personal", text="hello")
    await teams.send(activity)
    first = teams.new_lines()
    [entry] = [e for e in _rows(teams.bot, InboxEntry) if e.key == activity["id"]]
    assert (entry.channel, entry.kind, entry.state) == ("teams", "message", "done")
    assert entry.payload["employee"]["email"] == ANN and entry.payload["text"] == "hello"
    stale = teams.bot.clock() - teams.bot.inbox.lease - timedelta(seconds=1)
    teams.bot.db.call(lambda session: session.execute(update(InboxEntry).where(col(InboxEntry.id) == entry.id)
                                                      .values(state="working", claimed_by="dead", claimed_at=stale)))
    assert await teams.bot.inbox.take_over() == 1
    await teams.bot.inbox.drain()
    again = teams.new_lines()
    assert [line["text"] for line in again] == [line["text"] for line in first]
    await teams.send(activity)
    assert teams.new_lines() == [] and [e.state for e in _rows(teams.bot, InboxEntry)] == ["done"]


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
