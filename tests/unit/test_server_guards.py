"""Who may read /metrics and the dashboard (issue 18, hole 8): a token or loopback, throttled wrong tokens,
and no token too short to guard anything."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Bot
from bot.core.errors import ConfigError
from bot.core.settings import load_settings
from bot.nlu import EmbeddedParser
from bot.surfaces.dashboard import MAX_FAILURES, LoginThrottle
from bot.surfaces.server import _loopback, build_web_app
from tests.support import make_settings, running_bot

METRICS_TOKEN = "scrape-token-0123456789"
DASHBOARD_TOKEN = "desk-token-0123456789"


async def test_metrics_from_another_machine_needs_the_token(tmp_path, parser: EmbeddedParser) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'h.db'}", metrics_token=METRICS_TOKEN)
    with running_bot(settings, nlu=parser) as bot:
        async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
            assert (await client.get("/metrics")).status == 401
            assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
            ok = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert ok.status == 200 and "helpdesk_turns_total" in await ok.text()


async def test_metrics_without_a_token_answer_loopback_only(bot: Bot) -> None:
    async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 200
    assert not _loopback("203.0.113.9") and not _loopback(None) and _loopback("::1")


async def test_wrong_dashboard_tokens_are_throttled(tmp_path, parser: EmbeddedParser) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'h.db'}", dashboard_token=DASHBOARD_TOKEN)
    with running_bot(settings, nlu=parser) as bot:
        async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
            for _ in range(MAX_FAILURES):
                assert (await client.get("/dashboard.json", headers={"Authorization": "Bearer nope"})).status == 401
            locked = await client.get("/dashboard", headers={"Authorization": f"Bearer {DASHBOARD_TOKEN}"})
            assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0


def test_the_throttle_forgets_after_its_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(MAX_FAILURES):
        throttle.failed("198.51.100.7")
    assert throttle.wait("198.51.100.7") > 0 and throttle.wait("198.51.100.8") == 0
    now[0] = 301.0
    assert throttle.wait("198.51.100.7") == 0


@pytest.mark.parametrize("name", ["dashboard_token", "metrics_token"])
def test_a_token_under_16_characters_stops_the_bot(name: str) -> None:
    with pytest.raises(ConfigError, match=f"HELPDESK_{name.upper()}"):
        load_settings(_env_file=None, **{name: "letmein"})
