"""Fixtures for the directory tests: slapd and a Samba DC (once per session), a fake Graph, an SMTP sink.

slapd and Samba skip with the reason when their binaries are missing, which
HELPDESK_REQUIRE_SERVICES=1 (CI) turns into a failure. Each test gets the
same people again (ann, bob, tom, tia, alex the domain admin, dora who is
disabled, sam under a strict password policy).
"""

from __future__ import annotations

import os
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from ldap3 import BASE, LEVEL, MODIFY_ADD, MODIFY_REPLACE, Connection, Server, Tls

from tests.fakes.graph import FakeGraph
from tests.servers import directories
from tests.support import need_service

PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"


# OpenLDAP ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[directories.Slapd]:
    """One slapd (mdb, ppolicy) for the whole session, on a free port of 127.0.0.1."""
    if not (directories.SLAPD and directories.SLAPADD and directories.OPENSSL):
        need_service("slapd is not installed (apt-get install slapd ldap-utils)")
    server = directories.start_slapd(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


def admin(slapd: directories.Slapd) -> Connection:
    """A connection as the directory's root (for seeding and checking, never used by the bot)."""
    return Connection(Server(slapd.url), directories.ROOT_DN, directories.ROOT_PASSWORD, auto_bind=True)


def person_dn(name: str) -> str:
    """The DN of ``name`` in the test directory."""
    return f"uid={name},{directories.PEOPLE}"


PEOPLE: dict[str, dict[str, Any]] = {
    "ann": {"otherMailbox": "ann.home@mail.example", "displayName": "Ann Archer"},
    "bob": {"displayName": "Bob Baker"},
    "tom": {"otherMailbox": "tom.home@mail.example", "displayName": "Tom Tech"},
    "tia": {"otherMailbox": "tia.home@mail.example", "displayName": "Tia Tech"},
    "alex": {"otherMailbox": "alex.home@mail.example", "displayName": "Alex Admin"},
    "dora": {"otherMailbox": "dora.home@mail.example", "displayName": "Dora Gone"},
    "sam": {"otherMailbox": "sam.home@mail.example", "displayName": "Sam Strict",
            "pwdPolicySubentry": f"cn=strict,ou=policies,{directories.BASE_DN}"},
}


@pytest.fixture
def ldap_people(slapd: directories.Slapd) -> dict[str, str]:
    """The same people as at the start, whatever earlier tests did; returns name → email."""
    conn = admin(slapd)
    for base in (f"ou=groups,{directories.BASE_DN}", directories.PEOPLE):
        conn.search(base, "(objectClass=*)", LEVEL, attributes=["1.1"])
        for entry in list(conn.response or []):
            if entry.get("type") == "searchResEntry":
                conn.delete(entry["dn"])
    for name, extra in PEOPLE.items():
        attributes = {"cn": extra["displayName"], "sn": name, "mail": f"{name}@city.example",
                      "userPassword": directories.USER_PASSWORD, **extra}
        assert conn.add(person_dn(name), ["inetOrgPerson", "extensibleObject"], attributes), conn.result
    assert conn.add(f"cn=Domain Admins,ou=groups,{directories.BASE_DN}", ["groupOfNames"],
                    {"cn": "Domain Admins", "member": [person_dn("alex")]}), conn.result
    assert conn.add(f"cn=Clerks,ou=groups,{directories.BASE_DN}", ["groupOfNames"],
                    {"cn": "Clerks", "member": [person_dn("ann"), person_dn("bob")]}), conn.result
    assert conn.modify(person_dn("dora"), {"pwdAccountLockedTime": [(MODIFY_REPLACE, ["000001010000Z"])]}), \
        conn.result
    conn.unbind()
    return {name: f"{name}@city.example" for name in PEOPLE}


def ldap_sign_in(slapd: directories.Slapd, name: str, password: str) -> str:
    """Bind as ``name``: ``ok``, ``must_change`` (ppolicy changeAfterReset), ``locked`` or ``invalid``."""
    conn = Connection(Server(slapd.url), person_dn(name), password)
    bound = conn.bind(controls=[(PPOLICY_OID, False, None)])
    control = ((conn.result or {}).get("controls") or {}).get(PPOLICY_OID, {})
    value = control.get("value") or b""
    conn.unbind()
    # PasswordPolicyResponseValue: error [1] ENUMERATED; 1 accountLocked, 2 changeAfterReset.
    error = value[value.index(0x81) + 2] if b"\x81\x01" in value else None
    if error == 1:
        return "locked"
    if bound:
        return "must_change" if error == 2 else "ok"
    return "invalid"


def ldap_lock(slapd: directories.Slapd, name: str) -> None:
    """Lock ``name`` out the way a person does: too many wrong passwords.

    slapd's ppolicy overlay records a failure after it has answered the bind, so the lock is waited for (read as the
    admin: a right password tried before the last failure is recorded would clear the count instead)."""
    for _ in range(directories.MAX_FAILURES):
        conn = Connection(Server(slapd.url), person_dn(name), "not-the-password")
        assert not conn.bind()
        conn.unbind()
    admin = Connection(Server(slapd.url), directories.ROOT_DN, directories.ROOT_PASSWORD, auto_bind=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        admin.search(person_dn(name), "(objectClass=*)", BASE, attributes=["pwdAccountLockedTime"])
        if admin.entries and admin.entries[0].entry_attributes_as_dict.get("pwdAccountLockedTime"):
            break
        time.sleep(0.05)
    admin.unbind()
    assert ldap_sign_in(slapd, name, directories.USER_PASSWORD) == "locked"


# Samba AD ------------------------------------------------------------------------

SAMBA_TIMES: dict[str, float] = {}


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[directories.SambaDC]:
    """One Samba AD DC for the session, LDAPS on a loopback address of its own."""
    if not (directories.SAMBA and directories.SAMBA_TOOL and directories.OPENSSL):
        need_service("Samba AD is not installed (apt-get install samba samba-ad-dc samba-ad-provision winbind)")
    if os.geteuid() != 0:
        need_service("a Samba AD DC runs only as root")
    dc = directories.start_samba(tmp_path_factory.mktemp("samba") / "dc", cache=directories.samba_cache())
    SAMBA_TIMES.update(provision=dc.provision_seconds, start=dc.start_seconds)
    yield dc
    dc.stop()


_samba_users = iter(range(1, 10_000))


def samba_user(dc: directories.SambaDC, *, groups: tuple[str, ...] = (), other: str | None = None,
               disabled: bool = False, conn: Connection | None = None) -> str:
    """A fresh AD user with the starting password (added over LDAPS, which is quick); returns their email."""
    name = f"user{next(_samba_users)}"
    dn = f"CN={name},CN=Users,{directories.AD_BASE}"
    attributes: dict[str, Any] = {
        "sAMAccountName": name, "userPrincipalName": f"{name}@{directories.AD_REALM.lower()}",
        "mail": f"{name}@city.example", "displayName": f"Test {name}",
        "unicodePwd": f'"{directories.USER_PASSWORD}"'.encode("utf-16-le"),
        "userAccountControl": str(514 if disabled else 512),
    }
    if other:
        attributes["otherMailbox"] = other
    admin_conn = conn or samba_admin(dc)
    assert admin_conn.add(dn, ["top", "person", "organizationalPerson", "user"], attributes), admin_conn.result
    for group in groups:
        assert admin_conn.modify(f"CN={group},CN=Users,{directories.AD_BASE}", {"member": [(MODIFY_ADD, [dn])]}), \
            admin_conn.result
    if conn is None:
        admin_conn.unbind()
    return f"{name}@city.example"


def samba_admin(dc: directories.SambaDC) -> Connection:
    """An LDAPS connection as the domain Administrator."""
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(dc.ca), version=ssl.PROTOCOL_TLS_CLIENT)
    return Connection(Server(dc.url, use_ssl=True, tls=tls), f"Administrator@{directories.AD_REALM.lower()}",
                      directories.AD_ADMIN_PASSWORD, auto_bind=True)


def samba_sign_in(dc: directories.SambaDC, email: str, password: str) -> str:
    """Bind as the user: ``ok``, ``must_change`` (data 773), ``locked`` (775), ``disabled`` (533), ``invalid``."""
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(dc.ca), version=ssl.PROTOCOL_TLS_CLIENT)
    principal = email.replace("@city.example", f"@{directories.AD_REALM.lower()}")
    conn = Connection(Server(dc.url, use_ssl=True, tls=tls), principal, password)
    if conn.bind():
        conn.unbind()
        return "ok"
    message = str((conn.result or {}).get("message", ""))
    for code, status in (("data 773", "must_change"), ("data 775", "locked"), ("data 533", "disabled")):
        if code in message:
            return status
    return "invalid"


def samba_lock(dc: directories.SambaDC, email: str) -> None:
    """Lock the user out with wrong passwords (the domain's threshold is set by the fixture)."""
    for _ in range(directories.AD_LOCKOUT):
        assert samba_sign_in(dc, email, "Not-the-passw0rd") != "ok"
    assert samba_sign_in(dc, email, directories.USER_PASSWORD) == "locked"


# Graph ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def graph_server() -> Iterator[FakeGraph]:
    """The fake Entra ID + Graph, one server for the session."""
    fake = FakeGraph()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def graph(graph_server: FakeGraph) -> FakeGraph:
    """The fake with a fresh tenant: ann, bob, alex (Domain Admins, Global Administrator role), dora (disabled)."""
    graph_server.users.clear()
    graph_server.down = False
    graph_server.add_user("ann", other="ann.home@mail.example", groups=["Clerks"])
    graph_server.add_user("bob")
    graph_server.add_user("alex", other="alex.home@mail.example", groups=["Domain Admins", "Global Administrator"])
    graph_server.add_user("dora", enabled=False)
    return graph_server


# SMTP ----------------------------------------------------------------------------


@dataclass
class Inbox:
    """Messages the SMTP sink received."""

    messages: list[dict[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        """aiosmtpd's hook: keep the message."""
        parsed = message_from_bytes(envelope.content)
        body = parsed.get_payload(decode=True) or b""
        self.messages.append({"to": ",".join(envelope.rcpt_tos), "subject": str(parsed["Subject"]),
                              "body": body.decode() if isinstance(body, bytes) else str(body)})
        return "250 OK"

    def last_code(self, to: str) -> str:
        """The one-time code in the newest message to ``to``."""
        for message in reversed(self.messages):
            if message["to"] == to:
                match = re.search(r"\b(\d{6})\b", message["body"])
                assert match, message
                return match.group(1)
        raise AssertionError(f"no mail to {to}: {self.messages}")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    """A local SMTP sink on a free loopback port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=directories.free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Controller, Inbox]) -> Inbox:
    """The sink's inbox, emptied for this test."""
    smtp_server[1].messages.clear()
    return smtp_server[1]


@pytest.fixture
def smtp_settings(smtp_server: tuple[Controller, Inbox]) -> dict[str, object]:
    """``HELPDESK_SMTP_*`` pointing at the sink."""
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp_server[0].port}


def wait_until(condition: Any, seconds: float = 5.0) -> None:
    """Poll ``condition`` until true (for the SMTP sink's thread)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
