"""Outgoing email through SMTP (one-time codes to an employee's alternate address)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from bot.errors import IntegrationError

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
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one message; raises IntegrationError when the server cannot take it."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self._password:
                    smtp.login(self.username, self._password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise IntegrationError("Email", f"{self.host}:{self.port} did not take the message "
                                   f"({type(exc).__name__})") from None
