"""Temporary passwords follow the policy; one-time codes are hashed, expire and allow three tries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.errors import ConfigError
from bot.core.settings import load_settings
from bot.integrations.directory import AssistedDirectory, build_directory
from bot.integrations.directory.graph import GraphDirectory
from bot.integrations.directory.ldap import LdapDirectory
from bot.services.account_requests import AccountRequests
from bot.services.passwords import CLASSES, LOOKALIKES, temporary_password
from bot.store import AccountRequest, Database
from tests.support import Clock, make_settings


@pytest.mark.parametrize("length", [12, 16, 40])
def test_password_follows_the_policy(length: int) -> None:
    """Length, every class, no look-alikes, nothing of the user's name."""
    for _ in range(200):
        password = temporary_password(length, ["upper", "lower", "digit", "symbol"], ["annarcher", "Ann Archer"])
        assert len(password) == length
        assert all(any(c in CLASSES[name] for c in password) for name in CLASSES)
        assert not set(password) & LOOKALIKES
        lowered = password.lower()
        assert "ann" not in lowered and "arc" not in lowered and "her" not in lowered


def test_password_classes_can_be_narrowed() -> None:
    """With only letters and digits configured, no symbol appears."""
    password = temporary_password(20, ["upper", "lower", "digit"])
    assert password.isalnum()


def test_passwords_differ() -> None:
    """Made with ``secrets``: no two alike."""
    assert len({temporary_password(16, ["upper", "lower", "digit"]) for _ in range(100)}) == 100


def test_bad_password_settings_fail_at_start() -> None:
    """An unknown class or a short length stops the bot with the variable's name."""
    with pytest.raises(ConfigError, match="HELPDESK_TEMP_PASSWORD_CLASSES"):
        load_settings(_env_file=None, temp_password_classes="upper,emoji")
    with pytest.raises(ConfigError, match="HELPDESK_TEMP_PASSWORD_LENGTH"):
        load_settings(_env_file=None, temp_password_length=6)


def test_the_directory_comes_from_settings() -> None:
    """auto: LDAP when a URL is set, Graph when a tenant is, else technician-assisted; gaps are named."""
    assert isinstance(build_directory(make_settings("sqlite://")), AssistedDirectory)
    ldap = make_settings("sqlite://", ldap_url="ldaps://dc1.city.local", ldap_bind_dn="cn=bot",
                         ldap_password="x", ldap_base_dn="dc=city")
    assert isinstance(build_directory(ldap), LdapDirectory)
    graph = make_settings("sqlite://", graph_tenant_id="t", graph_client_id="c", graph_client_secret="s")
    assert isinstance(build_directory(graph), GraphDirectory)
    with pytest.raises(ConfigError, match="HELPDESK_LDAP_BIND_DN"):
        build_directory(make_settings("sqlite://", directory="ldap", ldap_url="ldap://x"))
    assert "x" not in repr(ldap.ldap_password)


async def test_codes_are_hashed_expire_and_allow_three_tries(tmp_path: Path) -> None:
    """The code is never stored; a wrong one counts, the right one works once, old ones expire."""
    clock = Clock()
    db = Database(f"sqlite:///{tmp_path / 'codes.db'}")
    db.migrate()
    try:
        requests = AccountRequests(db, clock)
        first = await requests.create(requester="a@x.example", target="a@x.example", action="reset_password",
                                      method="self_service")
        code = await requests.issue_code(first.id or 0)
        assert len(code) == 6 and code.isdigit()
        row = db.call(lambda s: s.exec(select(AccountRequest)).one())
        assert row.code_hash and code not in row.code_hash and code not in repr(row)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert await requests.check_code(first.id or 0, wrong) == ("wrong", 2)
        assert await requests.check_code(first.id or 0, code) == ("ok", 2)
        assert await requests.check_code(first.id or 0, code) == ("gone", 0)

        second = await requests.create(requester="a@x.example", target="a@x.example", action="reset_password",
                                       method="self_service")
        code = await requests.issue_code(second.id or 0)
        clock.advance(minutes=10)
        assert await requests.check_code(second.id or 0, code) == ("expired", 0)

        third = await requests.create(requester="a@x.example", target="a@x.example", action="reset_password",
                                      method="self_service")
        code = await requests.issue_code(third.id or 0)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert [(await requests.check_code(third.id or 0, wrong))[0] for _ in range(3)] == \
            ["wrong", "wrong", "locked_out"]
        assert await requests.check_code(third.id or 0, code) == ("gone", 0)
        assert await requests.cooling_down_until("a@x.example", timedelta(minutes=15)) == \
            clock.now + timedelta(minutes=15)
    finally:
        db.close()

