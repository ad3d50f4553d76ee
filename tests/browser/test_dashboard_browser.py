"""/dashboard in headless Chromium (Debian's, driven by Selenium and chromedriver): the charts render, the
headline figures match /dashboard.json, and a screenshot is saved (``HELPDESK_SCREENSHOT=docs/dashboard.png``
writes the one the README shows)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.nlu import EmbeddedParser
from bot.surfaces.server import build_web_app
from tests.dashboard_day import TOKEN, dashboard_json, scripted_day
from tests.support import Chat, Clock, make_settings, need_service, running_bot

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def desk(parser: EmbeddedParser, clock: Clock, tmp_path: Path) -> Iterator[Chat]:
    """A started bot with the dashboard on (SQLite: the browser, not the database, is under test here)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'helpdesk.db'}", dashboard_token=TOKEN)
    with running_bot(settings, nlu=parser, clock=clock) as bot:
        yield Chat(bot)


def _browse(url: str, screenshot: Path) -> dict[str, Any]:
    """Open ``url`` with the token sent as a header; what the page shows."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1700", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {TOKEN}"}})
        driver.get(url)
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.pygal-chart")
        shown = {"title": driver.title,
                 "charts": [(c.size["width"], c.size["height"], len(c.find_elements(By.CSS_SELECTOR, "rect.rect")))
                            for c in charts],
                 "tables": len(driver.find_elements(By.CSS_SELECTOR, "table caption")),
                 "figures": {e.get_attribute("data-figure"): e.text
                             for e in driver.find_elements(By.CSS_SELECTOR, "[data-figure]")},
                 "scripts": len(driver.find_elements(By.TAG_NAME, "script"))}
        driver.save_screenshot(str(screenshot))
        return shown
    finally:
        driver.quit()


async def test_the_dashboard_in_chromium(desk: Chat, clock: Clock, tmp_path: Path) -> None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        need_service("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    await scripted_day(desk)
    clock.advance(hours=2)
    data = await dashboard_json(desk)
    server = TestServer(build_web_app(desk.bot), host="127.0.0.1")
    await server.start_server()
    try:
        shown = await asyncio.to_thread(_browse, str(server.make_url("/dashboard?days=7")), tmp_path / "page.png")
    finally:
        await server.close()

    assert shown["title"] == "Helpdesk dashboard" and shown["scripts"] == 0
    assert len(shown["charts"]) >= 8
    assert all(width > 200 and height > 100 for width, height, _ in shown["charts"])
    assert shown["charts"][0][2] > 0, "the deflection chart draws its bars"
    assert shown["tables"] >= len(shown["charts"])
    deflection = data["deflection"]
    for key in ("conversations", "resolved_confirmed", "resolved_potential", "escalated", "abandoned",
                "declined", "in_progress"):
        assert shown["figures"][f"deflection.{key}"] == str(deflection[key]), key
    assert shown["figures"]["deflection.rate"] == f"{deflection['rate']:.0%}"
    assert shown["figures"]["savings.hours"] == str(data["savings"]["hours"])
    assert (tmp_path / "page.png").stat().st_size > 10_000
    if os.environ.get("HELPDESK_SCREENSHOT"):
        shutil.copy(tmp_path / "page.png", os.environ["HELPDESK_SCREENSHOT"])
