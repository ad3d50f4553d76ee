"""The temporary password in Slack (issue 18, hole 2): shown ephemerally in the employee's DM, never posted
into the conversation's history, and in no log record at DEBUG (slack_sdk logs request and response bodies)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from bot.core.redaction import REDACTED, hidden
from bot.nlu import EmbeddedParser
from tests.channels.slack.harness import SlackHarness
from tests.contracts.channel import ANN, TOM, button
from tests.servers import directories
from tests.servers.fixtures import ldap_sign_in

TEMPORARY = re.compile(r"is: (\S+)\n")


async def test_the_temporary_password_is_ephemeral_and_never_logged(
        tmp_path: Path, parser: EmbeddedParser, slapd: directories.Slapd, ldap_people: dict[str, str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slack = await SlackHarness.start(f"sqlite:///{tmp_path / 'helpdesk.db'}", parser, log_level="DEBUG",
                                     **slapd.settings)
    try:
        lines = await slack.say(ANN, "I forgot my password")
        lines = await slack.click(ANN, button(lines, "Yes"))
        await slack.click(TOM, button([line for line in lines if line["to"] == "technicians"], "Approve"))
        shown = [c for c in slack.fake.calls_to("chat.postEphemeral") if TEMPORARY.search(c.args["text"])]
        assert len(shown) == 1
        call = shown[0]
        assert call.args["channel"] == slack.fake.user_by_email(ANN).dm and call.args["user"] == "U0ANN00001"
        shown_text = call.args["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        password = TEMPORARY.search(shown_text).group(1)  # type: ignore[union-attr]
        assert ldap_sign_in(slapd, "ann", password) == "must_change"
        kept = [c for c in slack.fake.calls if c.method != "chat.postEphemeral" and password in str(c.args)]
        assert kept == []  # not in chat.postMessage or chat.update: nothing in the DM's history
        debug = [r for r in caplog.records if r.name.startswith("slack_sdk") and r.levelno == logging.DEBUG]
        assert any(REDACTED in r.getMessage() for r in debug)  # slack_sdk did log the call, redacted
        written = {password, password.replace("&", "&amp;"), quote_plus(password)}  # as Slack and forms write it
        assert not [r for r in caplog.records if any(form in r.getMessage() for form in written)]
    finally:
        await slack.stop()


def test_every_written_form_of_a_secret_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """Slack writes ``&`` as ``&amp;``, a Teams card escapes Markdown, a logged body escapes JSON."""
    caplog.set_level(logging.DEBUG)
    secret = "Kx&7*m_p~Q#4=w"
    with hidden(secret):
        logging.getLogger("slack_sdk.web.async_base_client").debug("body: %s", {"text": "is: Kx&amp;7*m_p~Q#4=w"})
        logging.getLogger("microsoft_agents").debug('{"text": "is: Kx&7\\\\*m\\\\_p\\\\~Q#4=w"}')
        logging.getLogger("aiohttp.client").debug("text=is%3A+Kx%267%2Am_p~Q%234%3Dw")
    logging.getLogger("x").info("after: Kx&7*m_p~Q#4=w")
    messages = [r.getMessage() for r in caplog.records]
    assert all(REDACTED in message for message in messages[:3]) and "Kx" not in " ".join(messages[:3])
    assert messages[3] == "after: Kx&7*m_p~Q#4=w"  # only while it is being set and sent
