"""The web server: /healthz for a healthy and a broken bot, and /metrics after a chat turn."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.app import Bot
from bot.surfaces.server import build_web_app
from tests.support import Chat, make_settings


async def test_healthz_ok_for_a_started_bot(bot: Bot) -> None:
    """A started bot with a reachable database and a trained NLU is healthy."""
    async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == {"status": "ok", "database": True, "nlu": True, "tickets": {
            "backend": "built-in queue", "up": True, "detail": "", "since": None}}


async def test_healthz_unhealthy_without_database_or_nlu() -> None:
    """A bot whose database cannot be opened and whose NLU is not trained answers 503 and says why."""
    broken = Bot(make_settings("sqlite:////nonexistent-dir/x.db"))
    try:
        async with TestClient(TestServer(build_web_app(broken), host="127.0.0.1")) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert (body["status"], body["database"], body["nlu"]) == ("unhealthy", False, False)
    finally:
        broken.close()


async def test_metrics_count_turns(chat: Chat) -> None:
    """/metrics is Prometheus text and counts the turn just handled, by intent and skill."""
    replies = await chat.say("emma@city.example", "hello")
    assert replies, "the greeting got no reply"
    async with TestClient(TestServer(build_web_app(chat.bot), host="127.0.0.1")) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.content_type == "text/plain"
        body = await response.text()
    assert "# TYPE helpdesk_turns_total counter" in body
    assert 'helpdesk_turns_total{intent="greet",skill="smalltalk"}' in body
    assert "helpdesk_turn_seconds_count" in body


async def test_unknown_path_is_404(bot: Bot) -> None:
    """Only the declared routes are served."""
    async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
        assert (await client.get("/nope")).status == 404
        assert (await client.post("/healthz")).status == 405
