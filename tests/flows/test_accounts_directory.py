"""Password resets and unlocks end to end, against a real slapd (OpenLDAP with ppolicy).

Every test drives the console channel and then checks the directory from
outside the bot: can the employee bind with the temporary password, must they
change it, is the lock gone. Wherever a password was made, it must appear in
exactly one line, private, to the employee: not in the logs (captured at
DEBUG), not in any table, not in the technicians' conversation.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from bot.app import Bot
from bot.nlu import EmbeddedParser
from bot.store import AccountRequest, AuditEntry, Ticket
from tests.servers import directories
from tests.servers.fixtures import Inbox, ldap_lock, ldap_sign_in, wait_until
from tests.support import Chat, Clock, button, fresh_postgres, make_settings, texts

ANN, BOB, TOM, TIA = "ann@city.example", "bob@city.example", "tom@city.example", "tia@city.example"
ALEX, DORA, SAM = "alex@city.example", "dora@city.example", "sam@city.example"
TEMPORARY = re.compile(r"is: (\S+)\n")

MakeChat = Callable[..., Chat]


@pytest.fixture
def make_chat(tmp_path: Path, parser: EmbeddedParser, clock: Clock, slapd: directories.Slapd,
              ldap_people: dict[str, str], smtp_settings: dict[str, object]) -> Iterator[MakeChat]:
    """Build a bot on the test slapd (and SMTP sink) with extra settings; closed at the end."""
    bots: list[Bot] = []

    def make(database_url: str | None = None, **overrides: Any) -> Chat:
        values = {**slapd.settings, **smtp_settings, **overrides}
        url = database_url or f"sqlite:///{tmp_path / f'helpdesk{len(bots)}.db'}"
        bot = Bot(make_settings(url, **values), nlu=parser, clock=clock)
        bot.start()
        bots.append(bot)
        return Chat(bot)

    yield make
    for bot in bots:
        bot.close()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG and above."""
    caplog.set_level(logging.DEBUG)
    return caplog


def everything_stored(bot: Bot) -> str:
    """Every row of every table, as text."""
    with bot.db.engine.connect() as connection:
        return "\n".join(repr(row) for table in SQLModel.metadata.sorted_tables
                         for row in connection.execute(sa_select(table)).all())


def audit(bot: Bot) -> list[tuple[str, str, str, str]]:
    """(actor, action, target, outcome) of every audit row."""
    rows = bot.db.call(lambda s: s.exec(select(AuditEntry).order_by(AuditEntry.id)).all())
    return [(r.actor, r.action, r.target, r.outcome) for r in rows]


def requests(bot: Bot) -> list[AccountRequest]:
    """Every account request, oldest first."""
    return bot.db.call(lambda s: list(s.exec(select(AccountRequest).order_by(AccountRequest.id)).all()))


def tickets(bot: Bot) -> list[Ticket]:
    """Every ticket."""
    return bot.db.call(lambda s: list(s.exec(select(Ticket)).all()))


def temporary_password(chat: Chat, to: str) -> str:
    """The temporary password shown to ``to``; it must be in exactly one line, private, to them."""
    shown = [line for line in chat.lines if TEMPORARY.search(line["text"])]
    assert len(shown) == 1, shown
    assert shown[0]["to"] == to and shown[0]["private"] is True
    password = TEMPORARY.search(shown[0]["text"]).group(1)  # type: ignore[union-attr]
    holders = [line for line in chat.lines if password in json.dumps(line)]
    assert holders == shown
    return password


def assert_kept_nowhere(password: str, chat: Chat, logs: pytest.LogCaptureFixture) -> None:
    """Not in the logs, not in the database, not in the technicians' conversation."""
    assert password not in logs.text
    assert all(password not in record.getMessage() for record in logs.records)
    assert password not in everything_stored(chat.bot)
    assert password not in texts(chat.lines, to="technicians")


async def ask(chat: Chat, who: str, text: str = "I forgot my password") -> list[dict[str, Any]]:
    """``who`` asks and says Yes; the replies to the Yes."""
    lines = await chat.say(who, text)
    return await chat.click(who, button(lines, "Yes"))


# Approval ----------------------------------------------------------------------------


async def test_approved_reset_shows_the_password_once_privately(
    make_chat: MakeChat, slapd: directories.Slapd, logs: pytest.LogCaptureFixture
) -> None:
    """The card says who, which account, last reset and privilege; after approval the password works once."""
    chat = make_chat()
    lines = await ask(chat, ANN)
    card = next(line for line in lines if line["to"] == "technicians")
    assert "Account: ann@city.example" in card["text"] and "Requested by: ann@city.example" in card["text"]
    assert "Last reset: no record" in card["text"] and "Privileged: no" in card["text"]
    lines = await chat.click(TOM, button(lines, "Approve"))
    password = temporary_password(chat, ANN)
    assert ldap_sign_in(slapd, "ann", password) == "must_change"
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "invalid"
    assert "Done: password reset for ann@city.example" in texts(lines, to="technicians")
    assert_kept_nowhere(password, chat, logs)
    assert (ANN, "accounts.reset_password", ANN, "done") in audit(chat.bot)
    assert [r.status for r in requests(chat.bot)] == ["done"]
    assert requests(chat.bot)[0].approved_by == TOM
    # The next request's card shows the last reset (the directory's pwdChangedTime).
    lines = await ask(chat, ANN)
    assert "Last reset: no record" not in texts(lines, to="technicians")
    assert "Last reset: " in texts(lines, to="technicians")


async def test_denied_changes_nothing(make_chat: MakeChat, slapd: directories.Slapd) -> None:
    """A denial leaves the password as it was."""
    chat = make_chat()
    lines = await ask(chat, ANN)
    lines = await chat.click(TOM, button(lines, "Deny"))
    assert "not approved by tom@city.example" in texts(lines, to=ANN)
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "ok"
    assert [r.status for r in requests(chat.bot)] == ["denied"]


async def test_expired_opens_a_ticket_and_changes_nothing(make_chat: MakeChat, slapd: directories.Slapd,
                                                         clock: Clock) -> None:
    """Nobody decided in time: a ticket, and a late Approve does nothing."""
    chat = make_chat()
    approve = button(await ask(chat, ANN), "Approve")
    clock.advance(minutes=31)
    assert await chat.bot.expire_approvals() == 1
    assert "opened ticket HELP-1" in texts(chat.lines, to=ANN)
    late = await chat.click(TOM, approve)
    assert "already expired" in texts(late)
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "ok"
    assert [r.status for r in requests(chat.bot)] == ["expired"]


async def test_self_approval_and_non_technician_are_refused(make_chat: MakeChat, slapd: directories.Slapd) -> None:
    """Tom cannot approve his own reset, Bob is no technician; the password stays until Tia approves."""
    chat = make_chat()
    approve = button(await ask(chat, TOM), "Approve")
    assert "cannot decide on your own request" in texts(await chat.click(TOM, approve))
    assert "Only technicians" in texts(await chat.click(BOB, approve))
    assert ldap_sign_in(slapd, "tom", directories.USER_PASSWORD) == "ok"
    await chat.click(TIA, approve)
    assert ldap_sign_in(slapd, "tom", temporary_password(chat, TOM)) == "must_change"


async def test_reset_for_someone_else(make_chat: MakeChat, slapd: directories.Slapd,
                                      logs: pytest.LogCaptureFixture) -> None:
    """An employee cannot ask for another person; a technician can, another technician approves, and the
    password goes privately to the person whose account it is, never to the technician who asked."""
    chat = make_chat()
    lines = await chat.say(ANN, "please reset the password for bob@city.example")
    assert "only reset or unlock your own account" in texts(lines)
    assert ldap_sign_in(slapd, "bob", directories.USER_PASSWORD) == "ok"
    await chat.say(BOB, "hello")
    lines = await ask(chat, TOM, "reset password for bob@city.example")
    assert "asked for someone else by a technician" in texts(lines, to="technicians")
    assert "Only technicians" in texts(await chat.click(BOB, button(lines, "Approve")))
    lines = await chat.click(TIA, button(lines, "Approve"))
    password = temporary_password(chat, BOB)
    assert "they have been told privately" in texts(lines, to=TOM)
    assert ldap_sign_in(slapd, "bob", password) == "must_change"
    assert_kept_nowhere(password, chat, logs)


async def test_reset_for_someone_the_bot_cannot_reach_is_done_by_hand(make_chat: MakeChat,
                                                                      slapd: directories.Slapd) -> None:
    """Bob never talked to the bot, so nobody could be shown his password privately: it becomes a task."""
    chat = make_chat()
    lines = await ask(chat, TOM, "reset password for bob@city.example")
    lines = await chat.click(TIA, button(lines, "Approve"))
    assert "by hand" in texts(lines, to="technicians") and button(lines, "Done")
    assert ldap_sign_in(slapd, "bob", directories.USER_PASSWORD) == "ok"
    assert not any(TEMPORARY.search(line["text"]) for line in chat.lines)


# Self-service --------------------------------------------------------------------------


async def test_self_service_with_the_right_code(make_chat: MakeChat, slapd: directories.Slapd, inbox: Inbox,
                                               logs: pytest.LogCaptureFixture) -> None:
    """The code goes to the alternate address; typed back, it resets with no technician involved."""
    chat = make_chat(reset_policy="self_service")
    lines = await chat.say(ANN, "I forgot my password")
    assert "one-time code" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Yes"))
    assert "a***@mail.example" in texts(lines, to=ANN) and lines[-1]["private"] is True
    wait_until(lambda: len(inbox.messages) == 1)
    code = inbox.last_code("ann.home@mail.example")
    assert code not in everything_stored(chat.bot)
    # The SMTP sink (logger mail.log) plays the mail server and may see the code; the bot's logs may not.
    assert all(code not in r.getMessage() for r in logs.records if not r.name.startswith("mail.log"))
    await chat.say(ANN, code)
    password = temporary_password(chat, ANN)
    assert ldap_sign_in(slapd, "ann", password) == "must_change"
    assert texts(chat.lines, to="technicians") == ""
    assert_kept_nowhere(password, chat, logs)
    assert password not in json.dumps(inbox.messages)
    assert (ANN, "accounts.code", ANN, "verified") in audit(chat.bot)


@pytest.mark.postgres
async def test_self_service_on_postgresql(make_chat: MakeChat, slapd: directories.Slapd, inbox: Inbox) -> None:
    """The code check and the request's steps hold on PostgreSQL too (row locks, not SQLite's one writer)."""
    chat = make_chat(fresh_postgres(), reset_policy="self_service")
    await ask(chat, ANN)
    wait_until(lambda: len(inbox.messages) == 1)
    await chat.say(ANN, inbox.last_code("ann.home@mail.example"))
    assert ldap_sign_in(slapd, "ann", temporary_password(chat, ANN)) == "must_change"
    assert [r.status for r in requests(chat.bot)] == ["done"]


async def test_self_service_wrong_codes_then_cool_down(make_chat: MakeChat, slapd: directories.Slapd, inbox: Inbox,
                                                      clock: Clock) -> None:
    """A wrong code says how many tries are left; the third stops the request and starts a cool-down."""
    chat = make_chat(reset_policy="self_service")
    await ask(chat, ANN)
    wait_until(lambda: len(inbox.messages) == 1)
    code = inbox.last_code("ann.home@mail.example")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "6-digit code from the email" in texts(await chat.say(ANN, "where do I find it?"))
    assert "2 tries left" in texts(await chat.say(ANN, wrong))
    assert "1 try left" in texts(await chat.say(ANN, wrong))
    assert "third wrong code" in texts(await chat.say(ANN, wrong))
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "ok"
    assert [r.status for r in requests(chat.bot)] == ["locked_out"]
    assert "short wait after a failed attempt" in texts(await chat.say(ANN, "I forgot my password"))
    clock.advance(minutes=16)
    lines = await chat.say(ANN, "I forgot my password")
    assert button(lines, "Yes")


async def test_self_service_expired_code(make_chat: MakeChat, slapd: directories.Slapd, inbox: Inbox,
                                         clock: Clock) -> None:
    """A right code after 10 minutes is refused and changes nothing."""
    chat = make_chat(reset_policy="self_service")
    await ask(chat, ANN)
    wait_until(lambda: len(inbox.messages) == 1)
    clock.advance(minutes=11)
    lines = await chat.say(ANN, inbox.last_code("ann.home@mail.example"))
    assert "expired" in texts(lines)
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "ok"


async def test_protected_account_needs_two_technicians(make_chat: MakeChat, slapd: directories.Slapd,
                                                       inbox: Inbox) -> None:
    """A Domain Admin never self-serves; with a second approver configured, one technician is not enough."""
    chat = make_chat(reset_policy="self_service", protected_second_approval=True)
    lines = await chat.say(ALEX, "I forgot my password")
    assert "A technician approves" in texts(lines)
    lines = await chat.click(ALEX, button(lines, "Yes"))
    assert inbox.messages == []
    assert "Privileged: yes: Domain Admins" in texts(lines, to="technicians")
    lines = await chat.click(TOM, button(lines, "Approve"))
    assert "second technician" in texts(lines, to=ALEX)
    second = button(lines, "Approve")
    assert "already approved this request once" in texts(await chat.click(TOM, second))
    assert ldap_sign_in(slapd, "alex", directories.USER_PASSWORD) == "ok"
    await chat.click(TIA, second)
    assert ldap_sign_in(slapd, "alex", temporary_password(chat, ALEX)) == "must_change"
    assert requests(chat.bot)[0].approved_by == "tom@city.example, tia@city.example"


# Limits, unlock, failures ----------------------------------------------------------------


async def test_three_resets_a_day(make_chat: MakeChat, clock: Clock) -> None:
    """The fourth reset in a day is refused and audited; a day later it is allowed again."""
    chat = make_chat()
    for _ in range(3):
        await chat.click(TOM, button(await ask(chat, ANN), "Approve"))
        clock.advance(minutes=5)
    lines = await chat.say(ANN, "I forgot my password")
    assert "which is the limit" in texts(lines) and not any(line["buttons"] for line in lines)
    assert (ANN, "accounts.reset_password", ANN, "refused") in audit(chat.bot)
    clock.advance(days=1)
    assert button(await chat.say(ANN, "I forgot my password"), "Yes")


async def test_locked_account_is_offered_an_unlock(make_chat: MakeChat, slapd: directories.Slapd) -> None:
    """Locked by wrong passwords: the bot offers to unlock only, and the old password works again."""
    ldap_lock(slapd, "ann")
    chat = make_chat()
    lines = await chat.say(ANN, "I forgot my password")
    assert "Your account is locked" in texts(lines)
    lines = await chat.say(ANN, "hmm what")
    assert "Your account is locked" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Unlock only"))
    lines = await chat.click(ANN, button(lines, "Yes"))
    assert "Locked: yes" in texts(lines, to="technicians")
    lines = await chat.click(TOM, button(lines, "Approve"))
    assert "is unlocked" in texts(lines, to=ANN)
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "ok"
    assert (ANN, "accounts.unlock_account", ANN, "done") in audit(chat.bot)


async def test_unlock_when_not_locked_offers_a_reset(make_chat: MakeChat) -> None:
    """Asking to unlock an account that is not locked offers a reset instead."""
    chat = make_chat()
    lines = await chat.say(ANN, "my account is locked")
    assert "not locked right now" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Cancel"))
    assert "won't change anything" in texts(lines)
    lines = await chat.say(ANN, "my account is locked")
    lines = await chat.say(ANN, "a new password then")
    assert "reset the password of your account" in texts(lines) and button(lines, "Yes")


@pytest.mark.parametrize(("who", "settings", "expected"), [
    (DORA, {}, "is disabled"),
    ("nobody@city.example", {}, "could not find an account"),
    ("x*)(|(mail=*@city.example", {}, "could not find an account"),
    (ANN, {"ldap_password": "not-the-bot-password"}, "refused my sign-in"),
    (ANN, {"ldap_url": f"ldap://127.0.0.1:{directories.free_port()}"}, "cannot reach the account directory"),
])
async def test_failures_tell_open_a_ticket_and_audit(make_chat: MakeChat, slapd: directories.Slapd, who: str,
                                                     settings: dict[str, object], expected: str) -> None:
    """Disabled, unknown (or filter injection in the email), bind refused, unreachable: clear words,
    a ticket for a technician, an audit row, and nobody's password changed."""
    chat = make_chat(**settings)
    lines = await chat.say(who, "I forgot my password")
    assert expected in texts(lines) and "nothing was changed" in texts(lines)
    assert "opened ticket HELP-1" in texts(lines)
    assert len(tickets(chat.bot)) == 1
    assert (who.lower(), "accounts.reset_password", who.lower(), "failed") in audit(chat.bot)
    for name in ("ann", "bob", "dora"):
        assert ldap_sign_in(slapd, name, directories.USER_PASSWORD) in ("ok", "locked")


async def test_password_refused_by_the_server_policy(make_chat: MakeChat, slapd: directories.Slapd,
                                                     logs: pytest.LogCaptureFixture) -> None:
    """Sam's policy wants 60 characters: the reset fails cleanly, with a ticket and the old password intact."""
    chat = make_chat()
    lines = await chat.click(TOM, button(await ask(chat, SAM), "Approve"))
    assert "password rules refused" in texts(lines, to=SAM) and "opened ticket" in texts(lines, to=SAM)
    assert ldap_sign_in(slapd, "sam", directories.USER_PASSWORD) == "ok"
    assert [(r.status, r.failure) for r in requests(chat.bot)] == [("failed", "password_rejected")]
    assert not any(TEMPORARY.search(line["text"]) for line in chat.lines)


async def test_directory_goes_down_mid_flow(tmp_path: Path, make_chat: MakeChat,
                                            logs: pytest.LogCaptureFixture) -> None:
    """The directory answers when Ann asks and is gone when Tom approves: nothing half done, a ticket."""
    own = directories.start_slapd(tmp_path / "own-slapd")
    try:
        from tests.servers.fixtures import PEOPLE, admin, person_dn

        conn = admin(own)
        assert conn.add(person_dn("ann"), ["inetOrgPerson", "extensibleObject"],
                        {"cn": "Ann", "sn": "ann", "mail": ANN, "userPassword": directories.USER_PASSWORD,
                         **PEOPLE["ann"]})
        conn.unbind()
        chat = make_chat(**own.settings)
        approve = button(await ask(chat, ANN), "Approve")
    finally:
        own.stop()
    lines = await chat.click(TOM, approve)
    assert "cannot reach the account directory" in texts(lines, to=ANN)
    assert "opened ticket HELP-1" in texts(lines, to=ANN)
    assert [(r.status, r.failure) for r in requests(chat.bot)] == [("failed", "unreachable")]
    assert (ANN, "accounts.reset_password", ANN, "failed") in audit(chat.bot)
    assert not any(TEMPORARY.search(line["text"]) for line in chat.lines)
