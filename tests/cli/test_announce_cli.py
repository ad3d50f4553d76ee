"""``helpdesk announce``: the command writes the notice and its job; the serving bot sends it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.app import Bot
from bot.nlu import EmbeddedParser
from bot.store import Announcement, AuditEntry
from tests.support import Chat, Clock, button, make_settings, texts

ANN, TOM, TIA = "ann@city.example", "tom@city.example", "tia@city.example"


def answers(**values: str) -> str:
    """The prompt answers of ``announce create``, in the composer's order, then "y" to send."""
    order = ("kind", "title", "body", "systems", "start", "end", "audience", "departments", "groups", "channels",
             "schedule", "ack", "mentions")
    defaults = {"kind": "maintenance", "title": "Printer maintenance", "body": "Printers are off for an hour.",
                "systems": "printer", "start": "", "end": "", "audience": "listed", "departments": "",
                "groups": "", "channels": "general", "schedule": "now", "ack": "no", "mentions": "no"}
    defaults.update(values)
    return "\n".join(defaults[name] for name in order) + "\ny\n"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The command's settings: a SQLite database here, Tom and Tia technicians, Chicago time."""
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
    monkeypatch.setenv("HELPDESK_TECHNICIANS", f"{TOM},{TIA}")
    monkeypatch.setenv("HELPDESK_TIMEZONE", "America/Chicago")
    return url


def run(*args: str, stdin: str = "") -> tuple[int, str]:
    """``helpdesk announce *args`` in-process; exit code and output (async tests call ``arun``)."""
    from bot.surfaces.cli import app

    result = CliRunner().invoke(app, ["announce", *args], input=stdin)
    return result.exit_code, result.output


async def arun(*args: str, stdin: str = "") -> tuple[int, str]:
    """``run`` from a test that is already inside an event loop (the command starts its own)."""
    return await asyncio.to_thread(run, *args, stdin=stdin)


async def test_create_list_send_report_cancel(cli_env: str, parser: EmbeddedParser, clock: Clock) -> None:
    """A scheduled notice from the terminal is sent by the serving bot; list and report show it."""
    code, out = await arun("create", "--as", TOM, stdin=answers(schedule="Sat 8am", ack="yes"))
    assert code == 0, out
    assert "Notice #1 is scheduled" in out
    code, out = await arun("list", "--json")
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert (listed["id"], listed["status"], listed["title"]) == (1, "scheduled", "Printer maintenance")

    bot = Bot(make_settings(cli_env, timezone="America/Chicago"), nlu=parser, clock=clock)
    bot.start()
    try:
        chat = Chat(bot)
        await chat.say(ANN, "hello", conversation="general")
        job = bot.scheduler.get("notice:1")
        assert job is not None
        clock.now = job.next_run_time
        assert await bot.scheduler.run_due() == 1
        sent = [line for line in chat.lines if line["to"] == "general" and line.get("key")]
        assert len(sent) == 1 and sent[0]["text"].startswith("Planned maintenance: Printer maintenance")
    finally:
        bot.close()
    code, out = await arun("report", "1", "--json")
    assert code == 0 and json.loads(out) == {"id": 1, "acknowledged": [], "pending": []}
    code, out = await arun("cancel", "1", "--as", TOM)
    assert code == 1 and "can't be cancelled" in out

    code, out = await arun("create", "--as", TOM, stdin=answers(schedule="every first Monday 8am"))
    assert code == 0 and "#2 is recurring" in out
    code, out = await arun("cancel", "2", "--as", TOM)
    assert code == 0 and "cancelled" in out


def test_a_non_technician_is_refused_and_audited(cli_env: str) -> None:
    """Someone not in HELPDESK_TECHNICIANS cannot announce from the terminal either."""
    code, out = run("create", "--as", ANN, stdin=answers())
    assert code == 1 and "is not a technician" in out
    bot = Bot(make_settings(cli_env))
    bot.db.migrate()
    try:
        [entry] = bot.db.call(lambda s: list(s.exec(select(AuditEntry)).all()))
        assert (entry.actor, entry.outcome) == (ANN, "refused")
        assert bot.db.call(lambda s: list(s.exec(select(Announcement)).all())) == []
    finally:
        bot.close()


def test_a_non_technician_cannot_cancel_and_is_told_so(cli_env: str) -> None:
    """``announce cancel --as`` an employee names what was refused (cancelling), not announcing."""
    code, out = run("cancel", "1", "--as", ANN)
    assert code == 1 and "is not a technician" in out and "cannot cancel notices" in " ".join(out.split())


async def test_all_staff_from_the_terminal_waits_for_a_second_technician(
        cli_env: str, parser: EmbeddedParser, clock: Clock) -> None:
    """The bot posts the approval card; Tia approves in chat; then it goes to all staff."""
    bot = Bot(make_settings(cli_env, timezone="America/Chicago"), nlu=parser, clock=clock)
    bot.start()
    try:
        chat = Chat(bot)
        for person in (ANN, TOM, TIA):
            await chat.say(person, "hello")
        code, out = await arun("create", "--as", TOM, stdin=answers(audience="all", channels=""))
        assert code == 0 and "waits for a second technician (approval #1)" in out, out
        clock.now = bot.scheduler.get("approval-card:1").next_run_time  # type: ignore[union-attr]
        await bot.scheduler.run_due()
        card = [line for line in chat.lines if line["to"] == "technicians"]
        assert "send notice #1 to all staff" in texts(card)
        lines = await chat.click(TIA, button(card, "Approve"))
        assert {line["to"] for line in lines if line["text"].startswith("Planned maintenance")} == {ANN, TIA}
        assert "Sent notice #1 to 2 people." in texts(lines, to=TOM)
    finally:
        bot.close()


def test_bad_input_saves_nothing(cli_env: str) -> None:
    """A time that cannot be read ends with a clear message and no row."""
    code, out = run("create", "--as", TOM, stdin=answers(schedule="someday"))
    assert code == 1 and "could not read a time" in out and "Nothing was saved" in out
