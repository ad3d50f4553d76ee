"""The Rasa adapter: the Parser contract (embedded, replayed Rasa, live Rasa), then its failure handling."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import REGISTRY

from bot.nlu import EmbeddedParser, ParseResult
from bot.nlu.rasa_http import CircuitBreaker, RasaError, RasaHttpParser, from_rasa_json
from tests.contracts.nlu import CASES, RECORDED_TEXTS, Case, check_case, check_shape
from tests.fakes.rasa_replay import ReplayRasa, recorded
from tests.servers import rasa_live
from tests.support import need_service

LIVE_URL = os.environ.get("HELPDESK_TEST_RASA_URL")  # a Rasa server already running, started with --auth-token TOKEN
TOKEN = os.environ.get("HELPDESK_TEST_RASA_TOKEN", rasa_live.TOKEN)


class MustNotAnswer:
    """A fallback that fails the test if the adapter ever uses it."""

    name = "must-not-answer"
    ready = True

    async def parse(self, text: str) -> ParseResult:
        raise AssertionError(f"the fallback answered {text!r}: Rasa should have")


class Clock:
    """Seconds that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def live_rasa_url() -> Iterator[str]:
    """A real ``rasa run --enable-api`` serving the cached model of today's intents/ (or HELPDESK_TEST_RASA_URL)."""
    if LIVE_URL:
        rasa_live.wait_until_up(LIVE_URL, TOKEN)
        yield LIVE_URL
        return
    model = rasa_live.current_model() if rasa_live.venv_ready() else None
    if model is None:
        reason = ("no cached Rasa environment and model for today's intents/: "
                  "run `python -m tests.servers.rasa_live build` (Python 3.10, several minutes once)")
        if rasa_live.python310() is None:
            pytest.skip(reason + "; there is no Python 3.10 on this machine, so it cannot be built")
        need_service(reason)
    port = rasa_live.free_port()
    process = rasa_live.serve(model, port)
    yield f"http://127.0.0.1:{port}"
    rasa_live.stop(process)


@pytest.fixture
async def replay() -> AsyncIterator[ReplayRasa]:
    """The replaying stand-in, requiring the test token."""
    server = await ReplayRasa(token=TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture(params=["embedded", "rasa-replay", pytest.param("rasa-live", marks=pytest.mark.rasa_live)])
async def contract_parser(request: pytest.FixtureRequest, parser: EmbeddedParser) -> AsyncIterator[object]:
    """Each Parser implementation the contract is checked against."""
    if request.param == "embedded":
        yield parser
        return
    if request.param == "rasa-replay":
        server = await ReplayRasa(token=TOKEN).start()
        url = server.url
    else:
        server, url = None, request.getfixturevalue("live_rasa_url")
    adapter = RasaHttpParser(url, MustNotAnswer(), token=TOKEN, timeout=10.0)
    yield adapter
    await adapter.close()
    if server is not None:
        await server.stop()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.text[:30])
async def test_contract_cases(contract_parser: object, case: Case) -> None:
    """Clear messages get their intent and entities, whichever parser answers."""
    check_case(await contract_parser.parse(case.text), case)  # type: ignore[attr-defined]


async def test_contract_odd_inputs_keep_the_shape(contract_parser: object) -> None:
    """Punctuation, unicode and long lines still give a well-formed parse."""
    for text in RECORDED_TEXTS[len(CASES):]:
        check_shape(await contract_parser.parse(text), text)  # type: ignore[attr-defined]


@pytest.mark.rasa_live
async def test_live_rasa_refuses_a_wrong_token(live_rasa_url: str) -> None:
    """The real server wants its token; the adapter reports that as a RasaError and does not retry."""
    adapter = RasaHttpParser(live_rasa_url, MustNotAnswer(), token="wrong", retries=3)
    with pytest.raises(RasaError, match="HTTP 401"):
        await adapter.parse_with_rasa("hello")
    await adapter.close()


def test_replay_file_is_a_real_rasa_recording() -> None:
    """The replayed answers come from Rasa 3.6.21 and cover every recorded text."""
    data = recorded()
    assert data["version"]["version"] == rasa_live.RASA_VERSION
    assert set(data["responses"]) == set(RECORDED_TEXTS)
    assert data["unauthorized"]["status"] == 401
    for text, body in data["responses"].items():
        assert body["text"] == text.strip() and "text_tokens" in body  # Rasa strips the text


# Failure handling -------------------------------------------------------------


def metric(name: str, **labels: str) -> float:
    """The current value of a Prometheus sample (0 when absent)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_wrong_token_falls_back_without_retrying(replay: ReplayRasa, parser: EmbeddedParser,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """A refused token is not retried; the embedded parser answers, a warning and the metric say so."""
    adapter = RasaHttpParser(replay.url, parser, token="wrong", retries=3)
    before = metric("helpdesk_nlu_fallbacks_total", reason="error")
    with caplog.at_level(logging.WARNING, logger="bot.nlu.rasa_http"):
        result = await adapter.parse("I forgot my password")
    assert result["intent"]["name"] == "reset_password"
    assert replay.calls == 1
    assert metric("helpdesk_nlu_fallbacks_total", reason="error") == before + 1
    assert "HTTP 401" in caplog.text and "HELPDESK_RASA_TOKEN" in caplog.text and "wrong" not in caplog.text
    await adapter.close()


async def test_a_failed_attempt_is_retried(replay: ReplayRasa) -> None:
    """One HTTP 500 is retried, and Rasa's answer comes back."""
    adapter = RasaHttpParser(replay.url, MustNotAnswer(), token=TOKEN, retries=1)
    replay.fail_next = 1
    check_case(await adapter.parse(CASES[0].text), CASES[0])
    assert replay.calls == 2
    await adapter.close()


async def test_timeouts_and_garbage_fall_back(replay: ReplayRasa, parser: EmbeddedParser) -> None:
    """A slow answer times out and a non-JSON answer is refused: the embedded parser answers both."""
    adapter = RasaHttpParser(replay.url, parser, token=TOKEN, timeout=0.1, retries=1,
                             breaker=CircuitBreaker(failures=10))
    replay.delay = 0.5
    assert (await adapter.parse("my account is locked"))["intent"]["name"] == "unlock_account"
    assert replay.calls == 2
    replay.delay, replay.garbage = 0.0, True
    with pytest.raises(RasaError, match="ContentTypeError|JSONDecodeError|not a /model/parse"):
        await adapter.parse_with_rasa("hello")
    assert (await adapter.parse("hello"))["intent"]["name"] == "greet"
    await adapter.close()


async def test_circuit_breaker_opens_and_closes(replay: ReplayRasa, parser: EmbeddedParser,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """Three failures open the breaker: Rasa is left alone until the reset time, then tried once."""
    clock = Clock()
    adapter = RasaHttpParser(replay.url, parser, token=TOKEN, retries=0,
                             breaker=CircuitBreaker(failures=3, reset_after=30, clock=clock))
    replay.fail_next = 100
    skipped = metric("helpdesk_nlu_fallbacks_total", reason="circuit_open")
    with caplog.at_level(logging.WARNING, logger="bot.nlu.rasa_http"):
        for _ in range(3):
            assert (await adapter.parse("hello"))["intent"]["name"] == "greet"
    assert adapter.breaker.state == "open" and replay.calls == 3
    assert metric("helpdesk_nlu_rasa_circuit_open") == 1
    assert "answers for the next 30 s" in caplog.text
    for _ in range(5):
        assert (await adapter.parse("I forgot my password"))["intent"]["name"] == "reset_password"
    assert replay.calls == 3
    assert metric("helpdesk_nlu_fallbacks_total", reason="circuit_open") == skipped + 5
    clock.now += 31
    assert adapter.breaker.state == "half-open"
    await adapter.parse("hello")  # the one trial fails: open again at once
    assert replay.calls == 4 and adapter.breaker.state == "open"
    clock.now += 31
    replay.fail_next = 0
    adapter.fallback = MustNotAnswer()
    with caplog.at_level(logging.WARNING, logger="bot.nlu.rasa_http"):
        check_case(await adapter.parse(CASES[0].text), CASES[0])
    assert adapter.breaker.state == "closed" and metric("helpdesk_nlu_rasa_circuit_open") == 0
    assert "answers again" in caplog.text
    await adapter.close()


async def test_server_gone_falls_back(parser: EmbeddedParser, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listening (connection refused): the embedded parser answers; no password in the log."""
    server = await ReplayRasa().start()
    url = server.url.replace("http://", "http://nlu:hunter2@")
    await server.stop()
    adapter = RasaHttpParser(url, parser, retries=1)
    with caplog.at_level(logging.WARNING, logger="bot.nlu.rasa_http"):
        assert (await adapter.parse("thanks a lot"))["intent"]["name"] == "thanks"
    assert "after 2 attempts" in caplog.text and "hunter2" not in caplog.text
    await adapter.close()


def test_nlu_fallback_becomes_out_of_scope() -> None:
    """Rasa's FallbackClassifier answer reads as out_of_scope, the way the router knows it."""
    body = {
        "text": "zzz", "entities": [],
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "greet", "confidence": 0.21},
                           {"name": "out_of_scope", "confidence": 0.2}],
    }
    result = from_rasa_json(body, "zzz")
    assert result["intent"] == {"name": "out_of_scope", "confidence": 0.3}
    assert [r["name"] for r in result["intent_ranking"]] == ["out_of_scope", "greet"]


def test_overlapping_entities_are_kept_once() -> None:
    """DIET and the regex extractor finding the same span give one entity."""
    entity = {"entity": "system", "start": 3, "end": 10, "value": "outlook", "extractor": "DIETClassifier",
              "confidence_entity": 0.99}
    body = {"text": "is outlook down", "intent": {"name": "outage_status", "confidence": 0.9},
            "entities": [entity, {**entity, "extractor": "RegexEntityExtractor", "confidence_entity": None}],
            "intent_ranking": [{"name": "outage_status", "confidence": 0.9}]}
    [found] = from_rasa_json(body, "is outlook down")["entities"]
    assert found["extractor"] == "DIETClassifier" and found["confidence_entity"] == 0.99


def test_unsure_learned_entities_are_dropped() -> None:
    """A learned (DIET) entity under 0.9 confidence is dropped; regex and lookup ones have none and stay.

    The body is what Rasa 3.6.21 answered when DIET still extracted entities
    (the exported pipeline now leaves entities to the regexes and lookups).
    """
    body = {"text": "I forgot my password", "intent": {"name": "reset_password", "confidence": 1.0},
            "entities": [{"entity": "system", "start": 0, "end": 1, "confidence_entity": 0.8819686770439148,
                          "value": "I", "extractor": "DIETClassifier"},
                         {"entity": "system", "start": 12, "end": 20, "value": "password",
                          "extractor": "RegexEntityExtractor"}],
            "intent_ranking": [{"name": "reset_password", "confidence": 1.0}]}
    assert [e["value"] for e in from_rasa_json(body, "I forgot my password")["entities"]] == ["password"]


def test_not_a_parse_is_refused() -> None:
    """Anything but a parse result raises ValueError (the adapter then falls back)."""
    for body in (None, [], {"text": "x"}, {"intent": "greet"}):
        with pytest.raises(ValueError):
            from_rasa_json(body, "x")

