"""Outgoing email through SMTP (one-time codes to an employee's alternate address).

TLS is either StartTLS on a plain port (587 or 25) or implicit TLS (465), and
the server's certificate is always checked, against the system's CAs or the
CA file given (a city's own mail relay often has an internal CA). smtplib
alone would encrypt without checking, which lets anyone in the middle read
the codes.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from bot.core.errors import IntegrationError

__all__ = ["Mailer"]


class Mailer:
    """Sends plain-text mail through one SMTP server; smtplib runs in a worker thread."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "it-helpdesk@city.example",
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        ca_file: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.ca_file = ca_file
        self.timeout = timeout

    def tls_context(self) -> ssl.SSLContext:
        """A client context that checks the server's certificate and name."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one message; raises IntegrationError when the server cannot take it."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            smtp = (smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.tls_context())
                    if self.implicit_tls else smtplib.SMTP(self.host, self.port, timeout=self.timeout))
            with smtp:
                if self.starttls and not self.implicit_tls:
                    smtp.starttls(context=self.tls_context())
                if self.username and self._password:
                    smtp.login(self.username, self._password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise IntegrationError("Email", f"{self.host}:{self.port} did not take the message "
                                   f"({type(exc).__name__})") from None
