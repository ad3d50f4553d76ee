"""One contract for every ticket backend: the built-in queue (SQLite, PostgreSQL), Jira Cloud, Jira Data
Center and Jira Service Management (through the fake Jira, whose traffic is checked against the specs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.core.errors import UserFacingError
from bot.integrations.tickets import TicketBackend, build_ticket_backend
from bot.store import Database
from tests.fakes.jira import JiraFake, jira_settings
from tests.support import Clock, fresh_postgres, make_settings

ANN, BOB, TOM = "ann@city.example", "bob@city.example", "tom@city.example"


@pytest.fixture(params=[
    "builtin-sqlite",
    pytest.param("builtin-postgres", marks=pytest.mark.postgres),
    "jira-cloud",
    "jira-datacenter",
    "jsm",
])
def backend(request: pytest.FixtureRequest, sqlite_url: str, clock: Clock) -> Iterator[TicketBackend]:
    """Each contract test runs against every backend."""
    kind, _, where = request.param.partition("-")
    url = fresh_postgres() if where == "postgres" else sqlite_url
    db = Database(url)
    if where == "postgres":
        db.migrate()
    fake: JiraFake | None = None
    values = {"ticket_backend": "builtin"}
    if kind != "builtin":
        fake = JiraFake(clock=clock, deployment="Server" if where == "datacenter" else "Cloud").start()
        values = jira_settings(fake, kind)
    chosen = build_ticket_backend(make_settings(url, **values), db, clock)
    chosen.check()
    yield chosen
    getattr(chosen, "close", lambda: None)()
    db.close()
    if fake is not None:
        fake.stop()
        assert fake.violations == [], "\n".join(fake.violations)


async def test_create_then_get(backend: TicketBackend) -> None:
    """A created ticket has a key, and reading it back gives the same summary, reporter and an open status."""
    created = await backend.create(reporter=ANN, summary="Printer on 2 jams", description="Jams on every job",
                                   system="printer", urgency="high")
    assert created.key and created.is_open
    again = await backend.get(created.key)
    assert again is not None
    assert (again.key, again.summary, again.reporter, again.system) == (created.key, "Printer on 2 jams", ANN,
                                                                        "printer")
    assert again.is_open and "Jams on every job" in again.description


async def test_get_unknown_and_malformed_keys(backend: TicketBackend) -> None:
    """An unknown key, a malformed key, or a key with a path in it is simply not found."""
    assert await backend.get("HELP-99999") is None
    assert await backend.get("HD-99999") is None
    assert await backend.get("../../serverInfo") is None


async def test_list_for_reporter_newest_first(backend: TicketBackend) -> None:
    """An employee's list has their tickets only, newest first."""
    first = await backend.create(reporter=ANN, summary="Monitor flickers", system="computer")
    await backend.create(reporter=BOB, summary="Bob's badge", system="badge")
    second = await backend.create(reporter=ANN, summary="Outlook crashes", system="outlook")
    mine = await backend.list_for(ANN)
    assert [t.key for t in mine] == [second.key, first.key]


async def test_find_open_by_system(backend: TicketBackend) -> None:
    """The duplicate check finds the reporter's open ticket on that system, and nobody else's."""
    ticket = await backend.create(reporter=ANN, summary="VPN drops", system="vpn")
    await backend.create(reporter=BOB, summary="Bob's VPN", system="vpn")
    assert (await backend.find_open(ANN, "vpn")).key == ticket.key  # type: ignore[union-attr]
    assert await backend.find_open(ANN, "printer") is None
    assert await backend.find_open(ANN, "") is None
    assert await backend.find_open("carl@city.example", "vpn") is None


async def test_comment_shows_as_last_comment(backend: TicketBackend) -> None:
    """A comment becomes the ticket's last comment, with its author."""
    ticket = await backend.create(reporter=ANN, summary="Scanner offline", system="printer")
    after = await backend.comment(ticket.key, ANN, "It is still offline this morning")
    assert after.last_comment == "It is still offline this morning"
    assert after.last_comment_by == ANN and after.last_comment_id


async def test_comment_on_unknown_ticket_is_refused(backend: TicketBackend) -> None:
    """Commenting on a ticket that does not exist says so."""
    with pytest.raises(UserFacingError):
        await backend.comment("HD-4040", ANN, "hello")


async def test_take_and_resolve(backend: TicketBackend) -> None:
    """A technician takes a ticket (assignee, in progress), then resolves it: it leaves the open lists."""
    ticket = await backend.create(reporter=ANN, summary="Keyboard dead", system="computer")
    taken = await backend.update(ticket.key, status="in progress", assignee=TOM)
    assert taken.assignee == TOM and taken.is_open and taken.status.lower() == "in progress"
    assert ticket.key in [t.key for t in await backend.list_open()]
    done = await backend.update(ticket.key, status="resolved")
    assert not done.is_open
    assert ticket.key not in [t.key for t in await backend.list_open()]
    assert await backend.list_for(ANN) == []
    assert [t.key for t in await backend.list_for(ANN, open_only=False)] == [ticket.key]


async def test_request_id_finds_the_ticket(backend: TicketBackend) -> None:
    """A ticket created with a request id is found by it; an unknown id finds nothing."""
    ticket = await backend.create(reporter=ANN, summary="Phone has no dial tone", system="phone",
                                  request_id="req-0001")
    assert (await backend.find_by_request("req-0001")).key == ticket.key  # type: ignore[union-attr]
    assert await backend.find_by_request("req-9999") is None


async def test_updated_since(backend: TicketBackend, clock: Clock) -> None:
    """Only tickets changed at or after the moment are listed."""
    old = await backend.create(reporter=ANN, summary="Old one", system="computer")
    clock.advance(minutes=10)
    moment = clock()
    clock.advance(minutes=1)
    new = await backend.create(reporter=ANN, summary="New one", system="printer")
    keys = [t.key for t in await backend.updated_since(moment)]
    assert new.key in keys and old.key not in keys
    clock.advance(minutes=5)
    await backend.comment(old.key, TOM, "Looking at it")
    assert old.key in [t.key for t in await backend.updated_since(moment + timedelta(minutes=3))]
