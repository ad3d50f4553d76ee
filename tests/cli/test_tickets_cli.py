"""``helpdesk`` with Jira down at start-up (a real process)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.test_cli import Workspace


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_jira_does_not_stop_the_start(tmp_path: Path) -> None:
    """No Jira at HELPDESK_JIRA_URL: the bot starts anyway (tickets wait in the outbox) and answers."""
    workspace = Workspace(tmp_path, f"sqlite:///{tmp_path / 'helpdesk.db'}")
    process = workspace.run(
        "shell", "--jsonl", stdin='{"user": "a@city.example", "text": "hello"}\n',
        HELPDESK_JIRA_URL=f"http://127.0.0.1:{_free_port()}", HELPDESK_JIRA_PROJECT="ITSD",
        HELPDESK_JIRA_EMAIL="bot@city.example", HELPDESK_JIRA_API_TOKEN="secret-token-789",
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() and "error" not in process.stdout.splitlines()[0]
    assert "secret-token-789" not in process.stderr + process.stdout and "Traceback" not in process.stderr
