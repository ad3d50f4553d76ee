"""``helpdesk`` with a bad Jira configuration stops at start-up with one line (a real process)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.test_cli import Workspace


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_jira_stops_the_start_with_one_line(tmp_path: Path) -> None:
    """No Jira at HELPDESK_JIRA_URL: exit 2 before the first employee's request, one line naming the setting."""
    workspace = Workspace(tmp_path, f"sqlite:///{tmp_path / 'helpdesk.db'}")
    process = workspace.run(
        "shell", "--jsonl", stdin='{"user": "a@city.example", "text": "my printer jams"}\n',
        HELPDESK_JIRA_URL=f"http://127.0.0.1:{_free_port()}", HELPDESK_JIRA_PROJECT="ITSD",
        HELPDESK_JIRA_EMAIL="bot@city.example", HELPDESK_JIRA_API_TOKEN="secret-token-789",
    )
    assert process.returncode == 2 and process.stdout == ""
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "HELPDESK_JIRA_URL" in lines[0] and "does not answer as a Jira server" in lines[0]
    assert "secret-token-789" not in process.stderr and "Traceback" not in process.stderr
