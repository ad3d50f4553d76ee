"""A scripted day of conversations with a known outcome each, and the dashboard's JSON, for the dashboard tests."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.surfaces.server import build_web_app
from tests.support import Chat, button, texts

TOKEN = "desk-token-123-manager-view"
MANAGER = "mia@city.example"


async def dashboard_json(chat: Chat, query: str = "?days=7") -> dict[str, Any]:
    """GET /dashboard.json with the token."""
    async with TestClient(TestServer(build_web_app(chat.bot), host="127.0.0.1")) as client:
        response = await client.get(f"/dashboard.json{query}", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 200
        return dict(await response.json())


async def scripted_day(chat: Chat) -> None:
    """Eight people, eight requests, and some small talk that is no request at all."""
    await chat.say("ann@city.example", "hi there")
    lines = await chat.say("ann@city.example", "how do i connect to the vpn from home")
    await chat.click("ann@city.example", button(lines, "Yes, that helped"))             # resolved_confirmed
    await chat.say("ann@city.example", "thanks!")
    await chat.say("bob@city.example", "how do I set up my out of office reply in outlook")  # answered: potential
    lines = await chat.say("cat@city.example", "my monitor keeps flickering and going black every few minutes")
    await chat.click("cat@city.example", button(lines, "Submit"))                       # escalated: ticket
    await chat.say("dan@city.example", "can i please talk to a real person in IT")      # escalated: handoff
    await chat.say("eve@city.example", "the scanner on the 2nd floor jams on every page")  # left at the preview
    lines = await chat.say("fay@city.example", "whats the weather going to be like for the parade saturday")
    assert "I'm the IT helpdesk bot" in texts(lines)                                    # declined
    lines = await chat.say("gus@city.example", "how do i connect to the vpn from home")
    await chat.click("gus@city.example", button(lines, "No"))
    lines = await chat.click("gus@city.example", button(chat.lines, "Open a ticket"))
    await chat.click("gus@city.example", button(lines, "Submit"))                       # escalated: ticket, one row
    await chat.say("tom@city.example", "show me the ticket queue")                      # a technician's own work
