"""The same chat flows on Entra ID (the fake Graph), on Active Directory (Samba), and with no directory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import MODIFY_REPLACE

from bot.nlu import EmbeddedParser
from tests.fakes.graph import FakeGraph
from tests.flows.test_accounts_directory import ask, assert_kept_nowhere, temporary_password
from tests.servers import directories
from tests.servers.fixtures import samba_admin, samba_lock, samba_sign_in, samba_user
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

TOM, TIA = "tom@city.example", "tia@city.example"


def _chat(tmp_path: Path, parser: EmbeddedParser, clock: Clock, **settings: object) -> Iterator[Chat]:
    with running_bot(make_settings(f"sqlite:///{tmp_path / 'helpdesk.db'}", **settings), nlu=parser,
                     clock=clock) as bot:
        yield Chat(bot)


@pytest.fixture
def graph_chat(tmp_path: Path, parser: EmbeddedParser, clock: Clock, graph: FakeGraph) -> Iterator[Chat]:
    """A bot whose directory is the fake Entra ID."""
    yield from _chat(tmp_path, parser, clock, **graph.settings)


@pytest.fixture
def samba_chat(tmp_path: Path, parser: EmbeddedParser, clock: Clock,
               samba_dc: directories.SambaDC) -> Iterator[Chat]:
    """A bot whose directory is the Samba AD DC, over LDAPS."""
    yield from _chat(tmp_path, parser, clock, **samba_dc.settings)


async def test_graph_reset_forces_a_change(graph_chat: Chat, graph: FakeGraph,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """Approved, the reset goes through Graph with forceChangePasswordNextSignIn; shown once, privately."""
    caplog.set_level(logging.DEBUG)
    lines = await ask(graph_chat, "ann@city.example")
    assert "Privileged: no" in texts(lines, to="technicians")
    await graph_chat.click(TOM, button(lines, "Approve"))
    password = temporary_password(graph_chat, "ann@city.example")
    assert graph.sign_in("ann@city.example", password) == "must_change"
    assert_kept_nowhere(password, graph_chat, caplog)


async def test_graph_unlock_becomes_a_technician_task(graph_chat: Chat, graph: FakeGraph) -> None:
    """Graph cannot unlock, so an approved unlock is a task for a technician, closed with Done."""
    lines = await ask(graph_chat, "ann@city.example", "my account is locked")
    lines = await graph_chat.click(TOM, button(lines, "Approve"))
    assert "by hand" in texts(lines, to="technicians")
    lines = await graph_chat.click(TIA, button(lines, "Done"))
    assert "is done" in texts(lines, to="ann@city.example")


async def test_graph_global_admin_is_protected(graph_chat: Chat) -> None:
    """Membership of a protected group, as Graph reports it, is on the approval card."""
    lines = await ask(graph_chat, "alex@city.example")
    assert "Privileged: yes: Domain Admins, Global Administrator" in texts(lines, to="technicians")


@pytest.mark.samba
async def test_active_directory_reset_and_unlock(samba_chat: Chat, samba_dc: directories.SambaDC,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """On AD: unicodePwd over LDAPS with pwdLastSet=0 (the next bind says 773), and an unlock after lockout."""
    caplog.set_level(logging.DEBUG)
    email = samba_user(samba_dc)
    await samba_chat.click(TOM, button(await ask(samba_chat, email), "Approve"))
    password = temporary_password(samba_chat, email)
    assert samba_sign_in(samba_dc, email, password) == "must_change"
    assert_kept_nowhere(password, samba_chat, caplog)

    other = samba_user(samba_dc)
    samba_lock(samba_dc, other)
    lines = await samba_chat.say(other, "I forgot my password")
    lines = await samba_chat.click(other, button(lines, "Unlock only"))
    lines = await samba_chat.click(TOM, button(await samba_chat.click(other, button(lines, "Yes")), "Approve"))
    assert "is unlocked" in texts(lines, to=other)
    assert samba_sign_in(samba_dc, other, directories.USER_PASSWORD) == "ok"


@pytest.mark.samba
async def test_active_directory_domain_admin_is_protected(samba_chat: Chat, samba_dc: directories.SambaDC) -> None:
    """A member of Domain Admins never self-serves and shows as privileged."""
    email = samba_user(samba_dc, groups=("Domain Admins",))
    lines = await ask(samba_chat, email)
    assert "Privileged: yes: Domain Admins" in texts(lines, to="technicians")


@pytest.mark.samba
async def test_active_directory_admin_count_is_privileged(samba_chat: Chat, samba_dc: directories.SambaDC) -> None:
    """An account that has left Domain Admins keeps AD's adminCount=1: the card still says privileged."""
    email = samba_user(samba_dc)
    conn = samba_admin(samba_dc)
    assert conn.modify(f"CN={email.partition('@')[0]},CN=Users,{directories.AD_BASE}",
                       {"adminCount": [(MODIFY_REPLACE, ["1"])]}), conn.result
    conn.unbind()
    lines = await ask(samba_chat, email)
    assert "Privileged: yes: AD protected account (adminCount=1)" in texts(lines, to="technicians")
