"""The Jira backend against the fake Jira: start-up checks, outages, secrets, and JQL escaping."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Bot
from bot.core.errors import ConfigError, IntegrationError, TicketBackendUnavailable, TicketQueued
from bot.integrations.tickets import build_ticket_backend
from bot.integrations.tickets.jira import JiraBackend
from bot.integrations.tickets.jira_mapping import jql_quote
from bot.integrations.tickets.jsm import ServiceDeskBackend
from bot.nlu import EmbeddedParser
from bot.store import Database
from bot.surfaces.server import build_web_app
from tests.fakes.jira import JiraFake, jira_settings, jql_filter
from tests.support import Clock, make_settings

ANN, BOB = "ann@city.example", "bob@city.example"


@pytest.fixture
def fake(clock: Clock) -> Iterator[JiraFake]:
    """A fake Jira Cloud; the test fails if any request or response broke the specs."""
    server = JiraFake(clock=clock).start()
    yield server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    """A migrated SQLite database."""
    database = Database(sqlite_url)
    yield database
    database.close()


def _backend(fake: JiraFake, db: Database, clock: Clock, kind: str = "jira", **overrides: Any) -> JiraBackend:
    backend = build_ticket_backend(make_settings(db.url, **jira_settings(fake, kind, **overrides)), db, clock)
    assert isinstance(backend, JiraBackend)
    return backend


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Start-up -----------------------------------------------------------------------


def _start_error(fake: JiraFake, db: Database, clock: Clock, parser: EmbeddedParser, **overrides: Any) -> str:
    settings = make_settings(db.url, **jira_settings(fake, **overrides))
    bot = Bot(settings, nlu=parser, clock=clock)
    try:
        with pytest.raises(ConfigError) as caught:
            bot.start()
    finally:
        bot.close()
    message = str(caught.value)
    assert "\n" not in message, "a start-up error is one line"
    return message


def test_start_fails_on_a_url_that_is_not_jira(fake: JiraFake, db: Database, clock: Clock,
                                               parser: EmbeddedParser) -> None:
    """Something answers at HELPDESK_JIRA_URL, but not as Jira (404): Bot.start() stops with one line naming it."""
    other = JiraFake(clock=clock, check_specs=False).start()  # its 404 for a path outside the API is the point
    try:
        message = _start_error(fake, db, clock, parser, jira_url=f"{other.url}/not-jira")
    finally:
        other.stop()
    assert message.startswith("HELPDESK_JIRA_URL:") and "does not answer as a Jira server (HTTP 404)" in message


async def test_start_degraded_while_jira_is_down(fake: JiraFake, db: Database, clock: Clock,
                                                 parser: EmbeddedParser) -> None:
    """Nothing answers at HELPDESK_JIRA_URL (or it answers 503): the bot starts, says Jira is down, and once
    Jira answers the probe finishes the start-up check and files what waits in the outbox."""
    settings = make_settings(db.url, **jira_settings(fake, jira_url=f"http://127.0.0.1:{_free_port()}"))
    bot = Bot(settings, nlu=parser, clock=clock)
    try:
        bot.start()
        health = bot.ticket_outbox.health
        assert not health.up and "is not answering (cannot connect)" in health.detail and health.since == clock()
    finally:
        bot.close()
    fake.fail_next(503, times=3)  # the start-up check, the dashboard's open tickets, the ticket request
    bot = Bot(make_settings(db.url, dashboard_token="desk-token-1234567", **jira_settings(fake)), nlu=parser,
              clock=clock)
    try:
        bot.start()
        assert not bot.ticket_outbox.health.up and "HTTP 503" in bot.ticket_outbox.health.detail
        async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
            health = await client.get("/healthz")
            assert health.status == 200
            body = await health.json()
            assert body["status"] == "ok" and body["tickets"]["up"] is False
            assert "HTTP 503" in body["tickets"]["detail"] and body["tickets"]["since"] == clock().isoformat()
            desk = await client.get("/dashboard.json", headers={"Authorization": "Bearer desk-token-1234567"})
            assert (await desk.json())["ticket_system_down"].startswith("Jira is down since ")
        with pytest.raises(TicketQueued):
            await bot.tickets.create(reporter=ANN, summary="printer on floor 2 jams", request_id="r-down-1")
        assert await bot.ticket_outbox.waiting() == 1
        assert await bot.ticket_outbox.probe() is True
        assert bot.ticket_outbox.health.up and await bot.ticket_outbox.waiting() == 0
        async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
            assert (await (await client.get("/healthz")).json())["tickets"]["up"] is True
        [issue] = fake.issues.values()
        assert issue["fields"]["summary"] == "printer on floor 2 jams"
    finally:
        bot.close()


def test_start_fails_on_bad_token(fake: JiraFake, db: Database, clock: Clock, parser: EmbeddedParser) -> None:
    """A wrong API token: one line naming HELPDESK_JIRA_API_TOKEN, and the token itself never shown."""
    message = _start_error(fake, db, clock, parser, jira_api_token="wrong-token-456")
    assert message.startswith("HELPDESK_JIRA_API_TOKEN:") and "401" in message
    assert "wrong-token-456" not in message


def test_start_fails_on_unknown_project(fake: JiraFake, db: Database, clock: Clock, parser: EmbeddedParser) -> None:
    """A project that does not exist: one line naming HELPDESK_JIRA_PROJECT."""
    message = _start_error(fake, db, clock, parser, jira_project="NOPE")
    assert message == (f"HELPDESK_JIRA_PROJECT: project NOPE does not exist at {fake.url}, "
                       "or the bot's account cannot see it")


def test_start_fails_on_unknown_issue_type(fake: JiraFake, db: Database, clock: Clock,
                                           parser: EmbeddedParser) -> None:
    """An issue type the project lacks is named, with the ones it has."""
    message = _start_error(fake, db, clock, parser, jira_issue_type="Incident")
    assert message.startswith("HELPDESK_JIRA_ISSUE_TYPE:") and "Task, Bug" in message


def test_start_fails_without_credentials(fake: JiraFake, db: Database, clock: Clock,
                                         parser: EmbeddedParser) -> None:
    """No token at all is caught before any request."""
    message = _start_error(fake, db, clock, parser, jira_api_token=None)
    assert "HELPDESK_JIRA_API_TOKEN" in message and fake.calls == []


def test_start_fails_on_unknown_service_desk(fake: JiraFake, db: Database, clock: Clock,
                                             parser: EmbeddedParser) -> None:
    """JSM: a service desk or a request type that does not exist is named."""
    assert "HELPDESK_JIRA_SERVICE_DESK" in _start_error(fake, db, clock, parser, ticket_backend="jsm",
                                                         jira_service_desk="7",
                                                         jira_request_types={"default": "10"})
    assert "no request type 99" in _start_error(fake, db, clock, parser, ticket_backend="jsm",
                                                jira_service_desk="1", jira_request_types={"default": "99"})


def test_data_center_uses_the_personal_access_token(clock: Clock, db: Database) -> None:
    """Data Center: a PAT as a bearer token, and the classic /search endpoint."""
    server = JiraFake(clock=clock, deployment="Server").start()
    try:
        backend = _backend(server, db, clock)
        assert backend.settings.jira_pat is not None and backend.settings.jira_email is None
        backend.check()
        backend.close()
    finally:
        server.stop()
    assert server.violations == []


# Outages --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 500, 429])
async def test_server_errors_and_rate_limits_are_unavailable(fake: JiraFake, db: Database, clock: Clock,
                                                             status: int) -> None:
    """5xx and 429 mean "try later" (the outbox retries); the library does not retry and sleep by itself."""
    backend = _backend(fake, db, clock)
    backend.check()
    fake.fail_next(status)
    with pytest.raises(TicketBackendUnavailable):
        await backend.create(reporter=ANN, summary="Printer jams", system="printer")
    assert fake.issues == {}
    backend.close()


async def test_a_slow_jira_times_out(fake: JiraFake, db: Database, clock: Clock) -> None:
    """A Jira slower than HELPDESK_JIRA_TIMEOUT is unavailable, not a hung bot."""
    backend = _backend(fake, db, clock, jira_timeout=0.2)
    backend.check()
    fake.hang_seconds = 0.6
    with pytest.raises(TicketBackendUnavailable, match="no answer within 0.2 s"):
        await backend.get("HD-1")
    fake.hang_seconds = 0
    backend.close()


async def test_a_refusal_is_an_integration_error(fake: JiraFake, db: Database, clock: Clock) -> None:
    """A 400 (a bad field) is not retried: it is an IntegrationError with Jira's reason."""
    backend = _backend(fake, db, clock, jira_fields={"priorities": {"high": "Blocker"}})
    backend.check()
    with pytest.raises(IntegrationError, match="HTTP 400") as caught:
        await backend.create(reporter=ANN, summary="Printer jams", urgency="high")
    assert not isinstance(caught.value, TicketBackendUnavailable)
    backend.close()


async def test_the_token_never_reaches_the_logs(fake: JiraFake, db: Database, clock: Clock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """Failures are logged and raised without the credentials (the library's errors carry the headers)."""
    caplog.set_level(logging.DEBUG)
    backend = _backend(fake, db, clock)
    backend.check()
    fake.fail_next(503)
    with pytest.raises(TicketBackendUnavailable) as caught:
        await backend.create(reporter=ANN, summary="x")
    backend.priorities = {"normal": "Blocker"}
    with pytest.raises(IntegrationError) as refused:
        await backend.create(reporter=ANN, summary="y")
    backend.close()
    for text in (caplog.text, str(caught.value), str(refused.value)):
        assert fake.token not in text and "Authorization" not in text


# Mapping ----------------------------------------------------------------------------


async def test_system_and_category_map_to_components_labels_priority_and_fields(
    fake: JiraFake, db: Database, clock: Clock,
) -> None:
    """HELPDESK_JIRA_FIELDS maps the system and the category to components, labels and custom fields."""
    mapping = {"systems": {"printer": {"components": ["Printers"], "fields": {"customfield_10050": "City Hall"}}},
               "categories": {"hardware": {"labels": ["hardware"]}}, "priorities": {"high": "Highest"}}
    backend = _backend(fake, db, clock, jira_fields=mapping)
    backend.check()
    ticket = await backend.create(reporter=ANN, summary="Printer jams", system="printer", urgency="high",
                                  request_id="abc")
    fields = fake.issues[ticket.key]["fields"]
    assert fields["components"][0]["name"] == "Printers"
    assert set(fields["labels"]) == {"helpdesk-bot", "hd-abc", "hardware"}
    assert fields["priority"]["name"] == "Highest"
    assert "ann@city.example" in fields["description"]
    backend.close()


async def test_service_desk_request_is_raised_on_behalf_of_the_employee(
    fake: JiraFake, db: Database, clock: Clock,
) -> None:
    """JSM: the customer is the employee, and the request type comes from the category."""
    backend = _backend(fake, db, clock, kind="jsm")
    assert isinstance(backend, ServiceDeskBackend)
    backend.check()
    ticket = await backend.create(reporter=ANN, summary="Laptop will not charge", system="computer")
    issue = fake.issues[ticket.key]
    assert issue["fields"]["reporter"]["emailAddress"] == ANN
    assert issue["fields"]["requestTypeId"] == "11"  # hardware
    other = await backend.create(reporter=ANN, summary="Need access to the parks folder")
    assert fake.issues[other.key]["fields"]["requestTypeId"] == "10"  # default
    assert ("POST", "/rest/servicedeskapi/request") in fake.calls
    backend.close()


# JQL ---------------------------------------------------------------------------------


def test_jql_quote() -> None:
    """Quotes and backslashes are escaped and control characters blanked: the value stays one literal."""
    assert jql_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert jql_quote("line\nbreak") == '"line break"'
    evil = 'x" OR project is not EMPTY OR labels = "y'
    issues = [{"id": "1", "key": "HD-1", "fields": {"labels": ["y"], "project": {"key": "HD", "name": "H"}}}]
    assert jql_filter(f"labels = {jql_quote(evil)}", issues) == []
    assert jql_filter(f'labels = "{evil}"', issues) != [], "the fake's JQL really would be fooled unescaped"


async def test_injection_in_the_reporter_finds_nothing(fake: JiraFake, db: Database, clock: Clock) -> None:
    """JSM puts the employee's email into JQL: an 'email' that tries injection lists only its own ticket
    (the same text unescaped lists everyone's)."""
    backend = _backend(fake, db, clock, kind="jsm")
    backend.check()
    await backend.create(reporter=BOB, summary="Bob's private ticket", system="computer")
    fake.add_issue("Someone else's ticket", reporter="carl@city.example")
    evil = 'x@city.example" OR reporter is not EMPTY OR reporter = "y@city.example'
    own = await backend.create(reporter=evil, summary="The evil one's own ticket", system="printer")
    assert [t.key for t in await backend.list_for(evil)] == [own.key]
    assert await backend.find_open(evil, "computer") is None
    assert await backend.get('HD-1" OR key is not EMPTY') is None
    naive = f'project = "HD" AND (key in ({own.key}) OR reporter = "{evil}")'
    assert len(jql_filter(naive, list(fake.issues.values()))) == 3
    backend.close()


def test_createmeta_answer_fits_the_spec(fake: JiraFake, db: Database, clock: Clock) -> None:
    """The fake's createmeta (which the library offers for checking a project's issue types) is spec-shaped."""
    backend = _backend(fake, db, clock)
    backend.check()
    meta = backend._client().createmeta(projectKeys=fake.project["key"])
    assert [t["name"] for t in meta["projects"][0]["issuetypes"]] == ["Task"]
    backend.close()
