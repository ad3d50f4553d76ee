"""The ``helpdesk`` command, run as a real process.

Start-up trains the NLU, so the subprocess runs are few (four): one
``shell --jsonl`` session shared by the tests that read its output and its
database, one ``nlu parse``, one ``audit tail`` and one start with a bad
setting. ``db upgrade`` runs in-process through typer's CliRunner, on the same
database as the shell session.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.surfaces.cli import app

HELPDESK = Path(sys.executable).parent / "helpdesk"
EMPLOYEE = "ana@city.example"
TECHNICIAN = "tom@city.example"
HANG_GUARD = 300  # seconds; only stops a hung process, never an assertion about speed


@dataclass
class Workspace:
    """A working directory with no .env and a SQLite database of its own."""

    path: Path
    database_url: str

    def env(self, **extra: str) -> dict[str, str]:
        """The process environment: ours without any HELPDESK_/SLACK_ variable, plus this workspace."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
        env.update(HELPDESK_DATABASE_URL=self.database_url, HELPDESK_TECHNICIANS=TECHNICIAN, **extra)
        return env

    def run(self, *args: str, stdin: str = "", **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run ``helpdesk *args`` here and wait for it."""
        return subprocess.run(
            [str(HELPDESK), *args], input=stdin, capture_output=True, text=True, cwd=self.path,
            env=self.env(**extra_env), timeout=HANG_GUARD, check=False,
        )


@dataclass
class Session:
    """The result of one ``helpdesk shell --jsonl`` run."""

    workspace: Workspace
    process: subprocess.CompletedProcess[str]
    lines: list[dict[str, Any]]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace shared by the tests of this module."""
    path = tmp_path_factory.mktemp("cli")
    return Workspace(path, f"sqlite:///{path / 'x.db'}")


@pytest.fixture(scope="module")
def session(workspace: Workspace) -> Session:
    """One scripted chat: a greeting, two bad lines, a password reset that a technician approves."""
    requests = [
        json.dumps({"user": EMPLOYEE, "text": "hi"}),
        "this is not json",
        json.dumps({"user": EMPLOYEE}),
        json.dumps({"user": EMPLOYEE, "text": "I forgot my password"}),
        json.dumps({"user": EMPLOYEE, "text": "yes"}),
        json.dumps({"user": TECHNICIAN, "click": "approval:1:approve"}),
    ]
    process = workspace.run("shell", "--jsonl", stdin="\n".join(requests) + "\n")
    lines = [json.loads(line) for line in process.stdout.splitlines()]
    return Session(workspace, process, lines)


def test_shell_jsonl_session(session: Session) -> None:
    """Each output line is one JSON reply (or error); bad lines are named and the session goes on."""
    assert session.process.returncode == 0, session.process.stderr
    assert session.process.stdout.endswith("\n")
    assert all(line.strip() for line in session.process.stdout.splitlines())
    lines = session.lines
    errors = [line for line in lines if "error" in line]
    replies = [line for line in lines if "error" not in line]

    assert [e["error"].split(":")[0] for e in errors] == ["line 2", "line 3"]
    assert "not JSON" in errors[0]["error"]
    assert '"text"' in errors[1]["error"]
    for error in errors:
        assert set(error) == {"error"}

    for reply in replies:
        assert {"to", "text", "buttons", "private"} <= set(reply)
        assert isinstance(reply["text"], str) and reply["text"]
        assert isinstance(reply["private"], bool)
        assert all(set(button) == {"id", "label"} for button in reply["buttons"])

    # The greeting answered first, then the two errors, in input order.
    assert lines[0]["to"] == EMPLOYEE and "error" not in lines[0]
    assert lines[1:3] == errors
    # After the bad lines the session went on: the self-service guide, then the reset offered, confirmed and
    # approved.
    after = lines[3:]
    assert after[0]["to"] == after[1]["to"] == EMPLOYEE
    assert [b["label"] for b in after[0]["buttons"]] == ["That fixed it", "No"]
    assert [b["label"] for b in after[1]["buttons"]] == ["Yes", "No"]
    card = next(line for line in after if line["to"] == "technicians" and line.get("key") == "approval:1")
    assert [b["id"] for b in card["buttons"]] == ["approval:1:approve", "approval:1:deny"]
    decided = next(line for line in after if line.get("replaces") == "approval:1")
    assert TECHNICIAN in decided["text"] and decided["buttons"] == []
    assert any(line["to"] == EMPLOYEE and "approved" in line["text"] for line in after[after.index(decided):])


def test_nlu_parse_writes_rasa_shaped_lines(workspace: Workspace) -> None:
    """Three messages in, three Rasa-shaped JSON parses out, in order."""
    messages = ["hello there", "I forgot my password", "is the vpn down?"]
    process = workspace.run("nlu", "parse", stdin="\n".join(messages) + "\n")
    assert process.returncode == 0, process.stderr
    parses = [json.loads(line) for line in process.stdout.splitlines()]
    assert [p["text"] for p in parses] == messages
    for parse in parses:
        assert {"text", "intent", "entities", "intent_ranking"} <= set(parse)
        assert set(parse["intent"]) >= {"name", "confidence"}
        assert 0.0 <= parse["intent"]["confidence"] <= 1.0
        assert isinstance(parse["entities"], list)
        ranking = parse["intent_ranking"]
        assert ranking and ranking[0]["name"] == parse["intent"]["name"]
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
    assert [p["intent"]["name"] for p in parses[:2]] == ["greet", "reset_password"]


def test_db_upgrade_then_audit_tail(
    session: Session, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db upgrade`` on the shell's database is harmless, and ``audit tail`` shows what the shell did."""
    assert session.process.returncode == 0, session.process.stderr
    monkeypatch.chdir(workspace.path)
    for name in list(os.environ):
        if name.startswith(("HELPDESK_", "SLACK_")):
            monkeypatch.delenv(name)
    upgraded = CliRunner().invoke(app, ["db", "upgrade"], env=workspace.env())
    assert upgraded.exit_code == 0, upgraded.output
    assert "database is up to date" in upgraded.output

    # A wide terminal, so that rich does not cut the table's columns short.
    tail = workspace.run("audit", "tail", "-n", "10", COLUMNS="250")
    assert tail.returncode == 0, tail.stderr
    assert "approval.request:reset_password" in tail.stdout
    assert "approval.approved:reset_password" in tail.stdout
    assert EMPLOYEE in tail.stdout and TECHNICIAN in tail.stdout
    # At 80 columns each row takes two lines, and no action name is cut short.
    narrow = CliRunner().invoke(app, ["audit", "tail", "-n", "10"], env=workspace.env(COLUMNS="80"))
    assert narrow.exit_code == 0, narrow.output
    assert "approval.request:reset_password" in narrow.output
    assert "approval.approved:reset_password" in narrow.output
    assert "…" not in narrow.output and max(len(line) for line in narrow.output.splitlines()) <= 80


def test_bad_setting_exits_2_with_one_line(workspace: Workspace) -> None:
    """A bad HELPDESK_PORT stops the shell before it starts: exit 2, one line on stderr naming it."""
    process = workspace.run("shell", "--jsonl", stdin='{"user": "a@city.example", "text": "hi"}\n',
                            HELPDESK_PORT="abc")
    assert process.returncode == 2
    assert process.stdout == ""
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "HELPDESK_PORT" in lines[0]
    assert "Traceback" not in process.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_serves_healthz_and_metrics(workspace: Workspace) -> None:
    """`helpdesk run` without a terminal serves /healthz and /metrics on HELPDESK_HOST:HELPDESK_PORT, and says
    so at start, with what it runs on and what is not configured."""
    port = _free_port()
    process = subprocess.Popen(
        [str(HELPDESK), "run"], cwd=workspace.path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=workspace.env(HELPDESK_PORT=str(port)),
    )
    try:
        health: dict[str, Any] | None = None
        deadline = time.monotonic() + HANG_GUARD
        while health is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    health = json.loads(response.read())
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert health is not None, process.stderr
        assert (health["status"], health["database"], health["nlu"], health["tickets"]["up"]) == (
            "ok", True, True, True), process.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            assert "helpdesk_turn_seconds" in response.read().decode()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=HANG_GUARD)
    assert f"serving GET /healthz, GET /metrics on http://127.0.0.1:{port}" in stderr
    assert "NLU embedded · tickets built-in (HELP-n) · directory none" in stderr
    assert "no chat platform is configured: set SLACK_BOT_TOKEN (Slack) or HELPDESK_TEAMS_APP_ID" in stderr


def test_half_configured_directory_exits_2_with_one_line(workspace: Workspace) -> None:
    """HELPDESK_DIRECTORY=ldap without the bind settings stops the shell with one line naming them."""
    process = workspace.run("shell", "--jsonl", stdin='{"user": "a@city.example", "text": "hi"}\n',
                            HELPDESK_DIRECTORY="ldap", HELPDESK_LDAP_URL="ldaps://dc1.city.local")
    assert process.returncode == 2
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and "HELPDESK_LDAP_BIND_DN" in lines[0], process.stderr
    assert "Traceback" not in process.stderr
