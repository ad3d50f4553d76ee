"""`helpdesk test FILE...`: conversation tests run end to end through the console chat, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.core.settings import PROJECT_ROOT
from bot.surfaces.cli import app

FIXTURES = PROJECT_ROOT / "tests" / "data" / "conversations"
runner = CliRunner()


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no .env; the project's intents and articles; Tom and Tia are technicians."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_INTENTS_DIR", str(PROJECT_ROOT / "intents"))
    monkeypatch.setenv("HELPDESK_KB_DIR", str(PROJECT_ROOT / "data" / "kb"))
    monkeypatch.setenv("HELPDESK_TECHNICIANS", "tom@city.example,tia@city.example")
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'never-used.db'}")
    return tmp_path


def test_every_step_and_expectation_passes_and_the_shares_are_reported(workspace: Path) -> None:
    """say, click, submit and each expect key (intent, article, text, ticket, approval, to_technicians)
    hold for the passing file; the JSON report has a line per conversation and the two shares; the
    configured database is never touched."""
    report_file = workspace / "report.json"
    result = runner.invoke(app, ["test", str(FIXTURES / "passing.yml"), "--json", str(report_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[:6] == [
        "pass  copier jam becomes a ticket",
        "pass  vpn guide answers alone",
        "pass  forgotten password goes to approval",
        "pass  asking for a person",
        "pass  thanks and nothing more",
        "pass  technician drafts an all-staff notice",
    ]
    assert lines[-1] == ("6 of 6 passed   resolved by the bot: 2 of 2 (100%)   "
                         "routed to a technician: 4 of 4 (100%)")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["resolved"] == {"passed": 2, "total": 2} and report["routed"] == {"passed": 4, "total": 4}
    assert [c["outcome"] for c in report["conversations"]] == [
        "ticket", "self_service", "approval", "handoff", "declined", "approval"]
    assert not (workspace / "never-used.db").exists()


def test_a_failing_step_is_named_with_what_the_bot_said(workspace: Path) -> None:
    """A wrong expectation exits 1; its line names the step, its line in the file, and the bot's words;
    the passing conversation beside it still passes."""
    report_file = workspace / "report.json"
    result = runner.invoke(app, ["test", str(FIXTURES / "failing.yml"), "--json", str(report_file)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "pass  copier jam is understood"
    failed = lines[1]
    assert failed.startswith("FAIL  vpn question expecting the wrong article (")
    assert "failing.yml:8) step 4 (line 13): expected article scan-to-email, the bot answered with vpn-from-home" \
        in failed
    assert "the bot said: *Connect to the VPN from home*" in failed
    assert lines[-1].startswith("1 of 2 passed   resolved by the bot: 1 of 2 (50%)")
    failure = json.loads(report_file.read_text(encoding="utf-8"))["conversations"][1]["failure"]
    assert failure["where"] == "step 4" and failure["line"] == 13 and "Connect to the VPN" in failure["bot_said"]


def test_an_outcome_the_bot_does_not_reach_fails(workspace: Path, tmp_path: Path) -> None:
    """A ticket that is previewed but never submitted is not the outcome "ticket"; a missing button is named."""
    file = tmp_path / "unfinished.yml"
    file.write_text(
        '- name: previewed only\n  steps:\n    - say: "the copier on 3rd floor keeps jamming"\n  outcome: ticket\n'
        '- name: no such button\n  steps:\n    - say: "thanks"\n    - click: "Open a ticket"\n'
        "  outcome: declined\n", encoding="utf-8")
    result = runner.invoke(app, ["test", str(file)])
    assert result.exit_code == 1, result.output
    first, second = result.output.strip().splitlines()[:2]
    assert "outcome (line 1): expected outcome ticket, but no ticket was filed; the bot said: " in first
    assert "step 2 (line 8): no button 'Open a ticket' was shown (buttons: none)" in second


@pytest.mark.parametrize(("content", "message"), [
    ("- name: x\n  steps:\n    - say: hi\n  outcome: solved\n",
     "bad.yml:4: 'outcome' must be one of self_service | ticket | approval | handoff | declined, not 'solved'"),
    ("- name: x\n  steps:\n    - say: hi\n    - expect: {intnet: greet}\n  outcome: declined\n",
     "bad.yml:4: 'expect' has an unknown key 'intnet' (allowed: intent, article, text, ticket, approval, "
     "to_technicians)"),
    ("- name: x\n  steps:\n    - say: hi\n    - expect: {text: \"HELP-(\"}\n  outcome: declined\n",
     "bad.yml:4: 'text' is not a valid regular expression"),
    ("- name: x\n  steps:\n    - say: hi\n    - expect: {ticket: maybe}\n  outcome: declined\n",
     "bad.yml:4: 'ticket' must be true or false"),
    ("- name: x\n  steps:\n    - say: hi\n      click: Yes\n  outcome: declined\n",
     "bad.yml:3: a step has exactly one of say, click, submit, expect"),
    ("- name: x\n  steps: [{say: hi}]\n  outcome: declined\n- name: x\n  steps: [{say: yo}]\n  outcome: declined\n",
     "bad.yml:4: the name 'x' is already used at"),
    ("- name: x\n  steps:\n    - say: [hi\n", "bad.yml:4: bad YAML"),
    ("name: x\n", "bad.yml:1: the file must be a list of conversations"),
])
def test_a_bad_file_is_a_clear_error(workspace: Path, content: str, message: str) -> None:
    """A bad file stops before anything runs, with one line naming the file, the line and the problem."""
    (workspace / "bad.yml").write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["test", "bad.yml"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_file_is_a_clear_error(workspace: Path) -> None:
    """A path that does not exist is named."""
    result = runner.invoke(app, ["test", "nowhere.yml"])
    assert result.exit_code == 2 and "nowhere.yml: no such file or folder" in result.output


def test_a_report_that_cannot_be_written_is_a_clear_error(workspace: Path) -> None:
    """--json into a folder that does not exist: the results are printed, then one error line, exit 2."""
    (workspace / "one.yml").write_text('- name: thanks\n  steps:\n    - say: "thanks"\n  outcome: declined\n',
                                       encoding="utf-8")
    result = runner.invoke(app, ["test", "one.yml", "--json", str(workspace / "missing" / "report.json")])
    assert result.exit_code == 2
    assert "pass  thanks" in result.output and "cannot write" in result.output
    assert "Traceback" not in result.output
