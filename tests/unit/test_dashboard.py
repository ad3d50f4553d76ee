"""GET /dashboard: served only with a token, asked for by HTTP Basic, every value escaped, a broken Jira shown."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Bot
from bot.nlu import EmbeddedParser
from bot.surfaces.server import build_web_app
from tests.support import Chat, button, make_settings, running_bot

TOKEN = "desk-token-1234567"
ANN = "ann@city.example"


def basic(password: str, user: str = "tom") -> dict[str, str]:
    """An Authorization header for HTTP Basic."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def desk(database_url: str, parser: EmbeddedParser) -> Iterator[Chat]:
    """A started bot with the dashboard token set."""
    with running_bot(make_settings(database_url, dashboard_token=TOKEN), nlu=parser) as bot:
        yield Chat(bot)


async def test_no_token_configured_is_404(bot: Bot) -> None:
    async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
        assert (await client.get("/dashboard", headers=basic(TOKEN))).status == 404


async def test_the_token_is_asked_for(desk: Chat) -> None:
    async with TestClient(TestServer(build_web_app(desk.bot), host="127.0.0.1")) as client:
        missing = await client.get("/dashboard")
        assert missing.status == 401 and missing.headers["WWW-Authenticate"].startswith("Basic")
        assert (await client.get("/dashboard", headers=basic("wrong"))).status == 401
        assert (await client.get("/dashboard", headers={"Authorization": "Basic %%%"})).status == 401
        assert (await client.get("/dashboard.json", headers={"Authorization": "Bearer nope"})).status == 401
        assert (await client.get("/dashboard", headers=basic(TOKEN))).status == 200
        assert (await client.get("/dashboard.json", headers={"Authorization": f"Bearer {TOKEN}"})).status == 200


async def test_the_desk_at_a_glance(desk: Chat) -> None:
    """A ticket whose summary is markup shows escaped; the JSON has the same facts."""
    lines = await desk.say(ANN, "my monitor shows <script>alert(1)</script> and flickers")
    await desk.click(ANN, button(lines, "Submit"))
    await desk.say(ANN, "how do I recalibrate the zamboni scheduling kiosk")
    async with TestClient(TestServer(build_web_app(desk.bot), host="127.0.0.1")) as client:
        page = await (await client.get("/dashboard", headers=basic(TOKEN))).text()
        data = await (await client.get("/dashboard.json", headers={"Authorization": f"Bearer {TOKEN}"})).json()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "HELP-1" in page and ANN in page and "No outage notices." in page
    assert [ticket["key"] for ticket in data["tickets"]] == ["HELP-1"]
    assert data["tickets"][0]["reporter"] == ANN and data["outbox_waiting"] == 0 and data["tickets_error"] is None
    assert data["nlu"] == "embedded (ready)"
    assert [gap["for_example"] for gap in data["kb_gaps"]] == ["how do I recalibrate the zamboni scheduling kiosk"]
    assert "Questions the knowledge base could not answer" in page and "<th>times asked</th>" in page
