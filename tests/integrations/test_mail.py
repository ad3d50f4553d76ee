"""SMTP over TLS against a real aiosmtpd server on 127.0.0.1: StartTLS and implicit TLS, the certificate checked."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.core.errors import IntegrationError
from bot.integrations.mail import Mailer
from tests.servers import directories
from tests.servers.fixtures import Inbox
from tests.support import need_service


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A test CA and a server context whose certificate it signed, for 127.0.0.1."""
    if directories.OPENSSL is None:
        need_service("openssl is not installed (apt-get install openssl)")
    ca, cert, key = directories.make_tls(tmp_path_factory.mktemp("smtp-tls"), "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return ca, context


@pytest.fixture
def starttls_server(tls: tuple[Path, ssl.SSLContext]) -> Iterator[tuple[int, Inbox]]:
    """A server that takes mail only after StartTLS."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=directories.free_port(), tls_context=tls[1],
                            require_starttls=True)
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def implicit_tls_server(tls: tuple[Path, ssl.SSLContext]) -> Iterator[tuple[int, Inbox]]:
    """A server that speaks TLS from the first byte (port 465 style)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=directories.free_port(), ssl_context=tls[1])
    controller.start()
    yield controller.port, inbox
    controller.stop()


async def test_starttls_with_the_city_ca(tls: tuple[Path, ssl.SSLContext],
                                         starttls_server: tuple[int, Inbox]) -> None:
    port, inbox = starttls_server
    await Mailer("127.0.0.1", port, starttls=True, ca_file=tls[0]).send("ann.home@mail.example", "Code", "123456")
    assert [m["to"] for m in inbox.messages] == ["ann.home@mail.example"]


async def test_an_untrusted_certificate_is_refused(starttls_server: tuple[int, Inbox]) -> None:
    """Without the CA that signed it, the certificate is not trusted and nothing is sent."""
    port, inbox = starttls_server
    with pytest.raises(IntegrationError, match="did not take the message"):
        await Mailer("127.0.0.1", port, starttls=True).send("ann.home@mail.example", "Code", "123456")
    assert inbox.messages == []


async def test_a_server_that_wants_tls_gets_no_plain_mail(starttls_server: tuple[int, Inbox]) -> None:
    port, inbox = starttls_server
    with pytest.raises(IntegrationError):
        await Mailer("127.0.0.1", port).send("ann.home@mail.example", "Code", "123456")
    assert inbox.messages == []


async def test_implicit_tls(tls: tuple[Path, ssl.SSLContext], implicit_tls_server: tuple[int, Inbox]) -> None:
    port, inbox = implicit_tls_server
    mailer = Mailer("127.0.0.1", port, implicit_tls=True, starttls=True, ca_file=tls[0])
    await mailer.send("bob.home@mail.example", "Code", "654321")
    assert [m["to"] for m in inbox.messages] == ["bob.home@mail.example"]


async def test_a_missing_ca_file_is_a_clear_error(tmp_path: Path, implicit_tls_server: tuple[int, Inbox]) -> None:
    port, _ = implicit_tls_server
    with pytest.raises(IntegrationError, match=f"127.0.0.1:{port}"):
        await Mailer("127.0.0.1", port, implicit_tls=True, ca_file=tmp_path / "none.pem").send("a@b.example", "x", "y")
