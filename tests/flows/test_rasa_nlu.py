"""Chat flows with HELPDESK_NLU=rasa: the same conversation whether Rasa answers or the fallback does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Bot
from bot.nlu import EmbeddedParser
from bot.nlu.factory import build_parser
from bot.nlu.rasa_http import CircuitBreaker, RasaHttpParser
from tests.fakes.rasa_replay import ReplayRasa
from tests.servers.rasa_live import TOKEN
from tests.support import Chat, Clock, button, make_settings, texts

ANN = "ann@city.example"


@pytest.fixture
async def replay() -> AsyncIterator[ReplayRasa]:
    """The stand-in Rasa server with recorded answers."""
    server = await ReplayRasa(token=TOKEN).start()
    yield server
    await server.stop()


async def reset_request(chat: Chat) -> str:
    """Ann asks for a password reset and confirms; the technicians' card text."""
    lines = await chat.say(ANN, "I forgot my password")
    assert "reset" in texts(lines).lower()
    lines = await chat.click(ANN, button(lines, "Yes"))
    return texts(lines, to="technicians")


@pytest.mark.parametrize("rasa_up", [True, False], ids=["rasa-answers", "rasa-down"])
async def test_reset_flow_is_the_same_either_way(database_url: str, parser: EmbeddedParser, clock: Clock,
                                                 replay: ReplayRasa, rasa_up: bool) -> None:
    """The router gets the same parse shape from Rasa or the fallback, so the flow is identical."""
    if not rasa_up:
        await replay.stop()
    nlu = RasaHttpParser(replay.url, parser, token=TOKEN, retries=0, breaker=CircuitBreaker(failures=1))
    bot = Bot(make_settings(database_url, nlu="rasa", rasa_url=replay.url), nlu=nlu, clock=clock)
    bot.start()
    try:
        card = await reset_request(Chat(bot))
        assert "Approval needed" in card and ANN in card
        assert (replay.calls > 0) == rasa_up
        assert nlu.breaker.state == ("closed" if rasa_up else "open")
    finally:
        await nlu.close()
        bot.close()


async def test_out_of_scope_from_rasa_opens_no_ticket(database_url: str, parser: EmbeddedParser, clock: Clock,
                                                      replay: ReplayRasa) -> None:
    """A lunch question and a resident's parking ticket, parsed by Rasa, get the fallback, not a ticket."""
    nlu = RasaHttpParser(replay.url, parser, token=TOKEN)
    bot = Bot(make_settings(database_url), nlu=nlu, clock=clock)
    bot.start()
    try:
        chat = Chat(bot)
        asked = ("what's for lunch in the cafeteria today", "my parking ticket has the wrong plate number")
        for text in asked:
            lines = await chat.say(ANN, text)
            assert "ticket HELP-" not in texts(lines) and not any(b["label"] == "Submit" for line in lines
                                                                  for b in line["buttons"])
        # Each message was asked of Rasa (so were the two read together, a text it has no answer for).
        assert list(dict.fromkeys(text for text in replay.asked if text in asked)) == list(asked)
    finally:
        await nlu.close()
        bot.close()


def test_settings_build_the_rasa_adapter(database_url: str) -> None:
    """HELPDESK_NLU=rasa builds the adapter with the settings' timeout, retries, breaker and token."""
    settings = make_settings(database_url, nlu="rasa", rasa_url="http://127.0.0.1:9/", rasa_token="s3cret",
                             rasa_timeout=0.5, rasa_retries=2, rasa_breaker_failures=4, rasa_breaker_reset="45")
    nlu = build_parser(settings)
    assert isinstance(nlu, RasaHttpParser) and nlu.name == "rasa" and nlu.ready
    assert nlu.url == "http://127.0.0.1:9/model/parse" and nlu.retries == 2 and nlu.timeout.total == 0.5
    assert (nlu.breaker.failures, nlu.breaker.reset_after) == (4, 45.0)
    assert nlu.fallback.name == "embedded"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("text", [
    "a resident at the counter wants to pay a parking ticket",
    "my parking ticket is wrong, can you fix it",
    "what's for lunch",
    "where can I get lunch around city hall",
])
async def test_out_of_scope_with_the_embedded_parser_opens_no_ticket(chat: Chat, text: str) -> None:
    """The same rejection with the default parser: no preview, no Submit, no ticket."""
    lines = await chat.say(ANN, text)
    assert not any(b["label"] == "Submit" for line in lines for b in line["buttons"])
    assert "ticket HELP-" not in texts(lines)
    assert await chat.bot.tickets.list_for(ANN, open_only=False) == []
