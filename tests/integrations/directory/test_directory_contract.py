"""One contract for every automatic Directory: OpenLDAP (slapd), Active Directory (Samba), Entra ID (fake Graph).

Each backend runs against a real server where one exists offline. A reset
must leave a password that works only to change it; a refused password must
leave the old one working; a lockout must be seen and cleared; an email
full of filter syntax must match nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from ldap3 import MODIFY_REPLACE

from bot.core.errors import DirectoryError
from bot.integrations.directory import Directory, build_directory
from bot.integrations.directory.base import ADMIN_PROTECTED
from bot.integrations.directory.graph import GraphDirectory
from bot.integrations.directory.ldap import LdapDirectory
from tests.fakes.graph import FakeGraph
from tests.servers import directories
from tests.servers.fixtures import (
    ldap_lock,
    ldap_sign_in,
    samba_admin,
    samba_lock,
    samba_sign_in,
    samba_user,
)
from tests.support import make_settings

NEW_PASSWORD = "Tmp-7kQ#xRw9Ym"
INJECTIONS = ["*", "*@city.example", "ann@city.example)(mail=*", "*)(|(mail=*", "ann@city.example)(|(uid=*",
              "x' or mail eq 'ann@city.example", "\\2a@city.example", "ann@city.example\x00"]


@dataclass
class Harness:
    """A directory under test and how to check it from outside the bot."""

    directory: Directory
    plain: str
    admin: str
    disabled: str
    sign_in: Callable[[str, str], str]
    lock: Callable[[str], None] | None
    broken: Callable[[str], Directory]


def _ldap(settings: dict[str, object], **changes: object) -> Directory:
    return build_directory(make_settings("sqlite://", **{**settings, **changes}))


@pytest.fixture(params=["openldap", pytest.param("samba", marks=pytest.mark.samba), "graph"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """Each contract test runs once per backend."""
    if request.param == "openldap":
        slapd: directories.Slapd = request.getfixturevalue("slapd")
        people = request.getfixturevalue("ldap_people")
        by_email = {email: name for name, email in people.items()}
        return Harness(
            directory=_ldap(slapd.settings), plain=people["ann"], admin=people["alex"], disabled=people["dora"],
            sign_in=lambda email, password: ldap_sign_in(slapd, by_email[email], password),
            lock=lambda email: ldap_lock(slapd, by_email[email]),
            broken=lambda kind: _ldap(slapd.settings, ldap_url=f"ldap://127.0.0.1:{directories.free_port()}")
            if kind == "unreachable" else _ldap(slapd.settings, ldap_password="wrong"),
        )
    if request.param == "samba":
        dc: directories.SambaDC = request.getfixturevalue("samba_dc")
        conn = samba_admin(dc)
        plain = samba_user(dc, other="someone.home@mail.example", conn=conn)
        admin = samba_user(dc, groups=("Domain Admins",), conn=conn)
        disabled = samba_user(dc, disabled=True, conn=conn)
        conn.unbind()
        return Harness(
            directory=_ldap(dc.settings), plain=plain, admin=admin, disabled=disabled,
            sign_in=lambda email, password: samba_sign_in(dc, email, password),
            lock=lambda email: samba_lock(dc, email),
            broken=lambda kind: _ldap(dc.settings, ldap_url=f"ldaps://127.0.0.1:{directories.free_port()}")
            if kind == "unreachable" else _ldap(dc.settings, ldap_password="wrong"),
        )
    fake: FakeGraph = request.getfixturevalue("graph")
    settings = fake.settings
    return Harness(
        directory=_ldap(settings), plain="ann@city.example", admin="alex@city.example", disabled="dora@city.example",
        sign_in=fake.sign_in, lock=None,
        broken=lambda kind: _ldap(settings, graph_authority_url=f"http://127.0.0.1:{directories.free_port()}",
                                  graph_base_url=f"http://127.0.0.1:{directories.free_port()}/v1.0")
        if kind == "unreachable" else _ldap(settings, graph_client_secret="wrong"),
    )


async def test_finds_the_account_by_email(harness: Harness) -> None:
    """The account comes back with its user name, state and alternate address."""
    account = await harness.directory.find(harness.plain)
    assert account is not None
    assert account.email == harness.plain and account.username
    assert account.alternate_email and account.alternate_email.endswith("@mail.example")
    assert account.locked in (False, None) and account.disabled is False
    assert await harness.directory.find(harness.plain.upper()) is not None


async def test_unknown_email_is_none(harness: Harness) -> None:
    """Nobody with that email: None, not an error."""
    assert await harness.directory.find("nobody.at.all@city.example") is None


async def test_filter_syntax_in_the_email_matches_nobody(harness: Harness) -> None:
    """Wildcards and filter syntax are escaped: they match no account at all."""
    for email in INJECTIONS:
        assert await harness.directory.find(email) is None, email


async def test_protected_group_and_disabled_are_seen(harness: Harness) -> None:
    """Membership of Domain Admins is visible, and so is a disabled account."""
    admin = await harness.directory.find(harness.admin)
    assert admin is not None and admin.in_any(["Domain Admins"]) == ["Domain Admins"]
    plain = await harness.directory.find(harness.plain)
    assert plain is not None and plain.in_any(["Domain Admins"]) == []
    disabled = await harness.directory.find(harness.disabled)
    assert disabled is not None and disabled.disabled is True


async def test_reset_gives_a_password_that_must_be_changed(harness: Harness) -> None:
    """After the reset the old password fails and the new one works only to change it."""
    account = await harness.directory.find(harness.plain)
    assert account is not None
    assert harness.sign_in(harness.plain, directories.USER_PASSWORD) == "ok"
    await harness.directory.reset_password(account, NEW_PASSWORD)
    assert harness.sign_in(harness.plain, NEW_PASSWORD) == "must_change"
    assert harness.sign_in(harness.plain, directories.USER_PASSWORD) == "invalid"


async def test_a_refused_password_changes_nothing(harness: Harness) -> None:
    """The server's password policy refuses a weak password; the old password still works."""
    account = await harness.directory.find(harness.plain)
    assert account is not None
    with pytest.raises(DirectoryError) as raised:
        await harness.directory.reset_password(account, "abc")
    assert raised.value.kind == "password_rejected"
    assert "abc" not in str(raised.value)
    assert harness.sign_in(harness.plain, directories.USER_PASSWORD) == "ok"


async def test_lockout_is_seen_and_unlocked(harness: Harness) -> None:
    """Wrong passwords lock the account; unlock clears it and the old password works again."""
    account = await harness.directory.find(harness.plain)
    assert account is not None
    if harness.lock is None:
        assert harness.directory.can_unlock is False and account.locked is None
        with pytest.raises(DirectoryError) as raised:
            await harness.directory.unlock(account)
        assert raised.value.kind == "unsupported"
        return
    harness.lock(harness.plain)
    locked = await harness.directory.find(harness.plain)
    assert locked is not None and locked.locked is True
    await harness.directory.unlock(locked)
    again = await harness.directory.find(harness.plain)
    assert again is not None and again.locked is False
    assert harness.sign_in(harness.plain, directories.USER_PASSWORD) == "ok"


async def test_reset_of_a_locked_account_unlocks_it(harness: Harness) -> None:
    """A reset clears the lockout in the same change."""
    if harness.lock is None:  # Entra ID shows no lockout: nothing to clear
        assert harness.directory.can_unlock is False
        return
    harness.lock(harness.plain)
    locked = await harness.directory.find(harness.plain)
    assert locked is not None and locked.locked
    await harness.directory.reset_password(locked, NEW_PASSWORD)
    assert harness.sign_in(harness.plain, NEW_PASSWORD) == "must_change"


async def test_unreachable_and_refused_sign_in(harness: Harness) -> None:
    """A directory that does not answer, and one that refuses the bot's credentials, say which."""
    with pytest.raises(DirectoryError) as down:
        await harness.broken("unreachable").find(harness.plain)
    assert down.value.kind == "unreachable"
    with pytest.raises(DirectoryError) as refused:
        await harness.broken("bind_refused").find(harness.plain)
    assert refused.value.kind == "bind_refused"
    assert "wrong" not in str(refused.value)


def test_the_adapters_are_directories() -> None:
    """Each adapter satisfies the protocol."""
    ldap = LdapDirectory("ldap://127.0.0.1:1", "cn=x", "y", "dc=x")
    graph = GraphDirectory("t", "c", "s")
    assert isinstance(ldap, Directory) and isinstance(graph, Directory)


async def test_no_password_is_sent_without_tls(slapd: directories.Slapd, ldap_people: dict[str, str]) -> None:
    """Over plain ldap:// the lookup works, but a reset is refused before anything is sent."""
    plain = _ldap(slapd.settings, ldap_start_tls=False)
    account = await plain.find(ldap_people["ann"])
    assert account is not None
    with pytest.raises(DirectoryError) as raised:
        await plain.reset_password(account, NEW_PASSWORD)
    assert raised.value.kind == "unsupported"
    assert ldap_sign_in(slapd, "ann", directories.USER_PASSWORD) == "ok"


@pytest.mark.samba
async def test_ad_admin_count_marks_a_privileged_account(samba_dc: directories.SambaDC) -> None:
    """An AD account with adminCount=1 (once in a protected group, perhaps no longer) is privileged even
    outside the listed protected groups; an ordinary account is not."""
    conn = samba_admin(samba_dc)
    former_admin, plain = samba_user(samba_dc, conn=conn), samba_user(samba_dc, conn=conn)
    dn = f"CN={former_admin.partition('@')[0]},CN=Users,{directories.AD_BASE}"
    assert conn.modify(dn, {"adminCount": [(MODIFY_REPLACE, ["1"])]}), conn.result
    conn.unbind()
    directory = _ldap(samba_dc.settings)
    found = await directory.find(former_admin)
    assert found is not None and found.admin_protected and found.in_any(["Domain Admins"]) == []
    assert found.privileges(["Domain Admins"]) == [ADMIN_PROTECTED]
    ordinary = await directory.find(plain)
    assert ordinary is not None and not ordinary.admin_protected and ordinary.privileges(["Domain Admins"]) == []
