"""The temporary password in Teams (issue 18, hole 2): Teams has no ephemeral messages, so the card that shows it
carries "I have noted it: remove it", which replaces the card with one that does not hold it; no log has it."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from bot.app import Bot
from bot.channels.teams.channel import FORGET
from bot.nlu import EmbeddedParser
from tests.channels.teams.harness import TeamsHarness, teams_settings
from tests.contracts.channel import ANN, TOM, button
from tests.fakes.teams_connector import FakeConnector
from tests.servers import directories
from tests.servers.fixtures import ldap_sign_in
from tests.support import Clock, make_settings

TEMPORARY = re.compile(r"is: (\S+)")


async def test_the_password_card_is_emptied_once_noted(tmp_path: Path, parser: EmbeddedParser, clock: Clock,
                                                       slapd: directories.Slapd, ldap_people: dict[str, str],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(f"sqlite:///{tmp_path / 'helpdesk.db'}", **teams_settings(), **slapd.settings)
    bot = Bot(settings, nlu=parser, clock=clock)
    bot.start()
    connector = await FakeConnector().start()
    teams = await TeamsHarness(bot, connector).start()
    try:
        lines = await teams.say(ANN, "I forgot my password")
        lines = await teams.click(ANN, button(lines, "Yes"))
        lines = await teams.click(TOM, button([line for line in lines if line["to"] == "technicians"], "Approve"))
        [shown] = [line for line in lines if TEMPORARY.search(line["text"])]
        assert shown["to"] == ANN and FORGET in [b["id"] for b in shown["buttons"]]
        password = TEMPORARY.search(shown["text"]).group(1)  # type: ignore[union-attr]
        assert ldap_sign_in(slapd, "ann", password) == "must_change"
        status, answer = await teams.invoke(ANN, FORGET, {"helpdesk_action": FORGET})
        assert status == 200 and "has been removed" in str(answer["value"]) and password not in str(answer)
        assert password not in caplog.text
    finally:
        await teams.stop()
        await connector.stop()
        bot.close()
