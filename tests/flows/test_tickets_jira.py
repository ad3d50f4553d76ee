"""Tickets in Jira, end to end through the console channel: opening, duplicates, status, outages, webhooks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.app import Bot
from bot.channels.slack.blocks import home_view
from bot.core.messages import Employee, Turn
from bot.engine.home import home_for
from bot.integrations.tickets.jira_webhook import signature
from bot.nlu import EmbeddedParser
from bot.store import AuditEntry, TicketOutboxEntry
from bot.surfaces.server import AccessLog, build_web_app
from tests.contracts.channel import rows
from tests.fakes.jira import JiraFake, jira_settings
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

ANN, BOB, TOM = "ann@city.example", "bob@city.example", "tom@city.example"
SECRET = "hook-secret"
DASHBOARD = "t0k-long-enough-16"


@pytest.fixture
def fake(clock: Clock) -> Iterator[JiraFake]:
    """A fake Jira Cloud with project ITSD; the test fails on any request or response that breaks the specs."""
    server = JiraFake(clock=clock, project="ITSD").start()
    yield server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def jira_bot(fake: JiraFake, parser: EmbeddedParser, clock: Clock, tmp_path: Path) -> Iterator[Bot]:
    """A started bot whose tickets go to the fake Jira (and whose dashboard token is ``DASHBOARD``)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'helpdesk.db'}", dashboard_token=DASHBOARD,
                             **jira_settings(fake))
    with running_bot(settings, nlu=parser, clock=clock) as bot:
        yield bot


@pytest.fixture
def jira_chat(jira_bot: Bot) -> Chat:
    """The chat driver for the Jira bot."""
    return Chat(jira_bot)


async def _open(chat: Chat, user: str, text: str) -> list[dict[str, object]]:
    lines = await chat.say(user, text)
    return await chat.click(user, button(lines, "Submit"))


async def test_open_with_slot_filling(jira_chat: Chat, fake: JiraFake) -> None:
    """'Open a ticket' alone: the bot asks what is wrong, fills the rest, previews, and files it in Jira."""
    lines = await jira_chat.say(ANN, "i need to put in a ticket")
    assert "what is the problem" in texts(lines).lower()
    lines = await jira_chat.say(ANN, "the copier on the 3rd floor keeps jamming, we need it asap")
    preview = texts(lines)
    assert "System: Printing" in preview and "Urgency: high" in preview
    assert [b["label"] for b in lines[-1]["buttons"]] == ["Submit", "Edit"]
    lines = await jira_chat.click(ANN, button(lines, "Submit"))
    assert f"ticket ITSD-1 is open. {fake.url}/browse/ITSD-1" in texts(lines, to=ANN)
    assert "New ticket ITSD-1 from ann@city.example" in texts(lines, to="technicians")
    [issue] = fake.issues.values()
    assert issue["fields"]["summary"] == "the copier on the 3rd floor keeps jamming, we need it asap"
    assert "helpdesk-bot" in issue["fields"]["labels"] and issue["fields"]["priority"]["name"] == "High"


async def test_edit_before_submit(jira_chat: Chat, fake: JiraFake) -> None:
    """Edit asks for the corrected text and previews again; only the corrected ticket is filed."""
    lines = await jira_chat.say(ANN, "my laptop wont charge")
    lines = await jira_chat.click(ANN, button(lines, "Edit"))
    lines = await jira_chat.say(ANN, "my laptop charger is broken, the laptop itself is fine")
    assert "Summary: my laptop charger is broken" in texts(lines)
    await jira_chat.click(ANN, button(lines, "Submit"))
    assert [i["fields"]["summary"] for i in fake.issues.values()] == [
        "my laptop charger is broken, the laptop itself is fine"]


async def test_duplicate_offer(jira_chat: Chat, fake: JiraFake) -> None:
    """An open Jira ticket on the same system is offered instead of a second one; its comment lands in Jira."""
    await _open(jira_chat, ANN, "outlook keeps crashing when I open attachments")
    lines = await jira_chat.say(ANN, "outlook keeps freezing and wont send my emails")
    assert "already have an open ticket about outlook: ITSD-1" in texts(lines)
    lines = await jira_chat.click(ANN, button(lines, "Add to it"))
    assert "Added to ITSD-1" in texts(lines)
    assert len(fake.issues) == 1
    [comment] = fake.issues["ITSD-1"]["fields"]["comment"]["comments"]
    assert "outlook keeps freezing" in comment["body"] and ANN in comment["body"]


async def test_status_own_refused_other_technician_any(jira_chat: Chat, fake: JiraFake) -> None:
    """Status, assignee and last comment for your own ticket; someone else's is refused; a technician sees any."""
    await _open(jira_chat, ANN, "my monitor is flickering all the time")
    fake.comment_as("ITSD-1", "tom@city.example", "I'll bring a new cable this afternoon")
    own = texts(await jira_chat.say(ANN, "any update on ITSD-1?"))
    assert "Status: To Do" in own and "Last comment: I'll bring a new cable" in own
    other = texts(await jira_chat.say(BOB, "whats the status of ITSD-1"))
    assert "can't find a ticket of yours" in other and "flickering" not in other
    assert "ITSD-1: my monitor is flickering" in texts(await jira_chat.say(TOM, "status of ITSD-1"))
    mine = texts(await jira_chat.say(ANN, "show me my tickets"))
    assert "ITSD-1 (To Do): my monitor is flickering" in mine and "last comment: I'll bring" in mine
    assert "no open tickets" in texts(await jira_chat.say(BOB, "my tickets"))


async def test_outage_then_recovery_files_exactly_one(jira_chat: Chat, jira_bot: Bot, fake: JiraFake,
                                                      clock: Clock) -> None:
    """Jira down: the request is kept and the employee told; retries back off; once Jira is back, one ticket,
    and the employee gets its key."""
    lines = await jira_chat.say(ANN, "the badge reader at the side door does not read my card")
    fake.fail_next(503)
    lines = await jira_chat.click(ANN, button(lines, "Submit"))
    assert "Jira is not answering right now, so I saved your request (#1)" in texts(lines, to=ANN)
    assert "request #1 from ann@city.example waits in the outbox" in texts(lines, to="technicians")
    assert fake.issues == {}
    mine = texts(await jira_chat.say(ANN, "my tickets"))
    assert "request #1 (waiting to be filed)" in mine

    assert await jira_bot.ticket_outbox.retry_due() == 0  # not due yet
    clock.advance(seconds=31)
    fake.fail_next(429)
    assert await jira_bot.ticket_outbox.retry_due() == 0  # still refused: the wait doubles
    entry = jira_bot.db.call(lambda s: s.exec(select(TicketOutboxEntry)).one())
    assert entry.state == "pending" and (entry.next_attempt_at - clock()).total_seconds() == 60

    clock.advance(seconds=61)
    before = len(jira_chat.lines)
    assert await jira_bot.ticket_outbox.retry_due() == 1
    told = texts(jira_chat.lines[before:], to=ANN)
    assert "Your request #1" in told and "is now ticket ITSD-1" in told
    clock.advance(minutes=30)
    assert await jira_bot.ticket_outbox.retry_due() == 0
    assert list(fake.issues) == ["ITSD-1"]


async def test_crash_between_created_and_recorded_never_files_twice(jira_chat: Chat, jira_bot: Bot,
                                                                    fake: JiraFake, clock: Clock) -> None:
    """Jira creates the issue but the answer is lost: the retry finds it by its label and files nothing new."""
    lines = await jira_chat.say(ANN, "vpn wont connect from home, error 809")
    fake.lose_create_answer = True
    lines = await jira_chat.click(ANN, button(lines, "Submit"))
    assert "saved your request" in texts(lines)
    assert len(fake.issues) == 1  # Jira did create it
    clock.advance(minutes=1)
    assert await jira_bot.ticket_outbox.retry_due() == 1
    assert len(fake.issues) == 1
    assert "is now ticket ITSD-1" in texts(jira_chat.lines, to=ANN)
    assert ("GET", "/rest/api/2/search/jql") in fake.calls


async def _post(bot: Bot, body: bytes, *, secret: str | None = SECRET, query: str = "") -> tuple[int, object]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature"] = signature(secret, body)
    async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
        response = await client.post("/jira/webhook" + query, data=body, headers=headers)
        return response.status, await response.json()


async def test_webhook_tells_the_employee(jira_chat: Chat, jira_bot: Bot, fake: JiraFake) -> None:
    """A status change and a public comment reach the employee once; internal comments never do."""
    await _open(jira_chat, ANN, "my desk phone has no dial tone")
    fake.move("ITSD-1", "In Progress")
    fake.comment_as("ITSD-1", "tom@city.example", "Replacing the handset at 2 pm")
    event = json.dumps(fake.webhook_event("ITSD-1")).encode()
    before = len(jira_chat.lines)
    assert await _post(jira_bot, event) == (200, {"ok": True, "notified": True})
    told = jira_chat.lines[before:]
    assert len(told) == 1 and told[0]["to"] == ANN and told[0]["private"]
    assert "Status: To Do → In Progress" in told[0]["text"]
    assert "New comment from tom@city.example: Replacing the handset at 2 pm" in told[0]["text"]
    assert await _post(jira_bot, event) == (200, {"ok": True, "notified": False})  # a replay tells nothing
    fake.comment_as("ITSD-1", "tom@city.example", "internal: handset model X2 out of stock", public=False)
    assert await _post(jira_bot, event) == (200, {"ok": True, "notified": False})
    assert "out of stock" not in texts(jira_chat.lines)


async def test_webhook_secret_and_malformed_bodies(jira_bot: Bot, fake: JiraFake) -> None:
    """Bad or missing secret → 401; not JSON → 400; no issue key → 400; the secret in the URL also works."""
    assert (await _post(jira_bot, b'{"issue": {"key": "ITSD-1"}}', secret="wrong"))[0] == 401
    assert (await _post(jira_bot, b'{"issue": {"key": "ITSD-1"}}', secret=None))[0] == 401
    assert (await _post(jira_bot, b"{not json", secret=SECRET))[0] == 400
    assert (await _post(jira_bot, b'["a list"]', secret=SECRET))[0] == 400
    assert (await _post(jira_bot, b'{"webhookEvent": "x"}', secret=SECRET))[0] == 400
    status, body = await _post(jira_bot, b'{"issue": {"key": "ITSD-9"}}', secret=None, query=f"?secret={SECRET}")
    assert (status, body) == (200, {"ok": True, "notified": False})


async def test_webhook_secret_in_a_header_and_never_in_the_access_log(jira_bot: Bot, fake: JiraFake,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """``Authorization: Bearer <secret>`` works; the ``?secret=`` form works too but never reaches the log."""
    body = b'{"issue": {"key": "ITSD-9"}}'
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    runner = web.AppRunner(build_web_app(jira_bot), access_log_class=AccessLog)  # as `helpdesk run` serves
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/jira/webhook"  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as client:
            bearer = {"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"}
            assert (await client.post(url, data=body, headers=bearer)).status == 200
            wrong = {"Content-Type": "application/json", "Authorization": "Bearer not-the-secret"}
            assert (await client.post(url, data=body, headers=wrong)).status == 401
            assert (await client.post(f"{url}?secret={SECRET}", data=body)).status == 200
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 3 and '"POST /jira/webhook?…" 200' in lines[2]
    assert SECRET not in caplog.text


async def test_polling_tells_the_employee_once(jira_chat: Chat, jira_bot: Bot, fake: JiraFake,
                                               clock: Clock) -> None:
    """Where webhooks cannot reach the bot, the polling job finds the change (JQL updated >=) and tells it once."""
    await _open(jira_chat, ANN, "my computer keeps restarting on its own")
    assert await jira_bot.tickets_sync.poll_once() == 0
    clock.advance(minutes=5)
    fake.move("ITSD-1", "Done")
    clock.advance(minutes=2)
    assert await jira_bot.tickets_sync.poll_once() == 1
    assert "Status: To Do → Done" in texts(jira_chat.lines, to=ANN)
    clock.advance(minutes=2)
    assert await jira_bot.tickets_sync.poll_once() == 0
    jql = [c for c in fake.calls if c[1] == "/rest/api/2/search/jql"]
    assert jql, "polling searched Jira"


async def test_comment_by_message_and_by_thread_reply(jira_chat: Chat, jira_bot: Bot, fake: JiraFake) -> None:
    """'add to KEY: ...' and a reply in the ticket's thread become comments; on someone else's ticket, refused."""
    await _open(jira_chat, ANN, "the scanner in utility billing isnt sending anything")
    lines = await jira_chat.say(ANN, "add to ITSD-1: it also shows error 0x34 on the panel")
    assert "Added your comment to ITSD-1" in texts(lines)
    assert "ann@city.example added to ITSD-1" in texts(lines, to="technicians")
    refused = texts(await jira_chat.say(BOB, "add to ITSD-1: ha ha"))
    assert "can't find a ticket of yours" in refused
    turn = Turn(channel="console", user_id=ANN, conversation_id=ANN, text="and now it is completely dead",
                thread_key="tickets:ITSD-1")
    turn.employee = await jira_bot.identity.resolve("console", ANN, email=ANN, private_conversation=ANN)
    await jira_bot.handle(turn)
    bodies = [c["body"] for c in fake.issues["ITSD-1"]["fields"]["comment"]["comments"]]
    assert len(bodies) == 2 and "error 0x34" in bodies[0] and "completely dead" in bodies[1]
    assert all("ha ha" not in b for b in bodies)


async def test_technician_takes_and_resolves_in_jira(jira_chat: Chat, fake: JiraFake) -> None:
    """A technician takes and resolves from chat; Jira is assigned and transitioned, the employee told each time."""
    await _open(jira_chat, ANN, "need adobe pro installed, my supervisor already approved it")
    lines = await jira_chat.say(TOM, "take ITSD-1")
    assert "ITSD-1 is yours now (In Progress)" in texts(lines, to=TOM)
    assert fake.issues["ITSD-1"]["fields"]["assignee"]["emailAddress"] == TOM
    assert "Status: To Do → In Progress" in texts(lines, to=ANN)
    lines = await jira_chat.say(TOM, "resolve ITSD-1 installed adobe pro 2026")
    assert fake.issues["ITSD-1"]["fields"]["status"]["name"] == "Done"
    told = texts(lines, to=ANN)
    assert "Status: In Progress → Done" in told and "installed adobe pro 2026" in told


async def test_injection_through_the_email_finds_nothing(jira_chat: Chat, fake: JiraFake) -> None:
    """A chat identity that tries JQL injection sees no one else's tickets."""
    await _open(jira_chat, ANN, "my keyboard is missing the letter e")
    evil = 'x@city.example" or reporter is not empty or reporter = "y@city.example'
    await _open(jira_chat, evil, "my computer keeps restarting on its own")
    lines = await jira_chat.say(evil, "my tickets")
    assert "ITSD-2" in texts(lines) and "ITSD-1" not in texts(lines)


async def test_phishing_click_while_jira_is_down(jira_chat: Chat, fake: JiraFake) -> None:
    """An urgent report that cannot be filed still goes out whole: the security alert at once, naming the
    waiting request, and the offer to reset the password; the ticket is filed when Jira is back."""
    lines = await jira_chat.say(ANN, "I got a weird email asking me to verify my password and I clicked the link")
    fake.fail_next(503)
    lines = await jira_chat.click(ANN, button(lines, "Yes"))
    to_technicians = texts(lines, to="technicians")
    assert "request #1 from ann@city.example waits in the outbox" in to_technicians
    assert "Urgency: urgent" in to_technicians
    assert "URGENT security: ann@city.example clicked a phishing link or entered a password (request #1" \
        in to_technicians
    assert "alerted the security team (request #1" in texts(lines, to=ANN)
    assert button(lines, "Reset my password now")
    assert fake.issues == {}
    queued = [(a.actor, a.target) for a in rows(jira_chat.bot, AuditEntry) if a.action == "ticket.queued"]
    assert queued == [(ANN, "outbox #1")]


async def test_outage_report_while_jira_is_down(jira_chat: Chat, fake: JiraFake) -> None:
    """"Report it" with Jira down: the technicians hear of the outage now, and the report is counted."""
    lines = await jira_chat.say(BOB, "is the vpn down")
    fake.fail_next(503)
    lines = await jira_chat.click(BOB, button(lines, "Report it"))
    assert "Outage report from bob@city.example: vpn seems to be down (request #1" in texts(lines, to="technicians")
    assert "reported it to the IT team (request #1" in texts(lines, to=BOB)
    assert button(lines, "Tell me when it's fixed")


async def test_offers_from_other_skills_file_in_jira(jira_chat: Chat, fake: JiraFake) -> None:
    """The how-to "this did not help" offer and the fallback's offer open Jira tickets with what was said."""
    question = "how do i set up an out of office reply in outlook"
    lines = await jira_chat.say(ANN, question)
    lines = await jira_chat.click(ANN, button(lines, "No"))
    lines = await jira_chat.click(ANN, button(lines, "Open a ticket"))
    await jira_chat.click(ANN, button(lines, "Submit"))
    [issue] = fake.issues.values()
    assert issue["fields"]["summary"] == question and "did not help" in issue["fields"]["description"]

    await jira_chat.say(BOB, "blorp fizzle wibble")
    lines = await jira_chat.say(BOB, "zzq frobnicate the gronk")
    lines = await jira_chat.click(BOB, button(lines, "Open a ticket"))
    await jira_chat.click(BOB, button(lines, "Submit"))
    assert fake.issues["ITSD-2"]["fields"]["summary"] == "zzq frobnicate the gronk"


async def test_the_dashboard_shows_a_jira_that_does_not_answer(jira_chat: Chat, fake: JiraFake) -> None:
    """Jira down: the dashboard still comes, says so, and counts the request waiting in the outbox."""
    lines = await jira_chat.say(ANN, "my monitor flickers all the time")
    fake.fail_next(503, times=20)
    await jira_chat.click(ANN, button(lines, "Submit"))
    bearer = {"Authorization": f"Bearer {DASHBOARD}"}
    try:
        async with TestClient(TestServer(build_web_app(jira_chat.bot), host="127.0.0.1")) as client:
            response = await client.get("/dashboard.json", headers=bearer)
            assert response.status == 200
            data = await response.json()
            page = await (await client.get("/dashboard", headers=bearer)).text()
    finally:
        fake.failures.clear()
    assert data["tickets"] == [] and "Jira" in data["tickets_error"] and data["outbox_waiting"] == 1
    assert "1 request(s) wait in the outbox" in page


async def test_the_home_screen_says_when_jira_does_not_answer(jira_chat: Chat, jira_bot: Bot,
                                                              fake: JiraFake) -> None:
    """Jira down: the home still has its quick actions and outages, and says the tickets cannot be read."""
    await _open(jira_chat, ANN, "my keyboard is missing the letter e")
    fake.fail_next(503, times=20)
    try:
        home = await home_for(jira_bot, Employee(ANN))
    finally:
        fake.failures.clear()
    assert home.tickets is None and [b.label for b in home.quick_actions]
    view = json.dumps(home_view(home.name, home.quick_actions, None, [], None))
    assert "the ticket system is not answering" in view and "Reset my password" in view
