"""`helpdesk report --month`: the printable page and the CSV give the same totals as /dashboard.json."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.nlu import EmbeddedParser
from bot.surfaces.cli import app
from tests.dashboard_day import TOKEN, dashboard_json, scripted_day
from tests.support import Chat, Clock, make_settings, running_bot

runner = CliRunner()


@pytest.fixture
def desk(database_url: str, parser: EmbeddedParser, clock: Clock, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Chat]:
    """A started bot, and the command pointed at the same database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    with running_bot(make_settings(database_url, dashboard_token=TOKEN), nlu=parser, clock=clock) as bot:
        yield Chat(bot)


async def test_the_monthly_report_matches_the_json(desk: Chat, clock: Clock, tmp_path: Path) -> None:
    await scripted_day(desk)
    clock.advance(hours=73)  # every outcome has settled, as it has for the command (run at the real time)
    data = await dashboard_json(desk, "?month=2026-11")
    assert data["period"]["label"] == "November 2026" and data["deflection"]["conversations"] == 7

    result = await asyncio.to_thread(runner.invoke, app, ["report", "--month", "2026-11", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    deflection = {row["name"]: row["value"] for row in rows if row["section"] == "deflection" and not row["group"]}
    assert deflection == {key: str(value) for key, value in data["deflection"].items() if key != "escalated_by"}
    by_skill = {row["name"]: int(row["value"]) for row in rows if row["group"] == "by_skill"}
    assert by_skill == data["volume"]["by_skill"]
    assert sum(int(row["value"]) for row in rows if row["section"] == "week" and row["name"] == "escalated") \
        == data["deflection"]["escalated"]

    page = tmp_path / "november.html"
    result = await asyncio.to_thread(runner.invoke, app, ["report", "--month", "2026-11", "-o", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    shown = dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', html))
    for key in ("conversations", "resolved_confirmed", "resolved_potential", "escalated", "abandoned", "declined"):
        assert shown[f"deflection.{key}"] == str(data["deflection"][key])
    assert "<title>IT helpdesk: November 2026</title>" in html and html.count("<svg") >= 8 and "<script" not in html


def test_a_bad_month_or_format_is_refused_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = runner.invoke(app, ["report", "--month", "November"])
    assert result.exit_code == 2 and "write it like 2026-11" in result.output
    result = runner.invoke(app, ["report", "--month", "2026-11", "--format", "pdf"])
    assert result.exit_code == 2 and "html or csv" in result.output
