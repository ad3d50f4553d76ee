"""The README's 3-minute tour, step by step, through ``helpdesk shell --jsonl`` with the tour's own settings.

Each step is sent as the console would send it (a message, or a click on the button the README names) and
what comes back is checked against what the README says appears. The interactive console numbers the same
buttons (``1``, ``t1``; ``tests/channels/console/test_shell_forms.py``); here they are clicked by id.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.core.settings import PROJECT_ROOT

HELPDESK = Path(sys.executable).parent / "helpdesk"
README = PROJECT_ROOT / "README.md"
EMPLOYEE, TOM, TIA, BOB = "employee@city.example", "tom@city.example", "tia@city.example", "bob@city.example"
SENTINEL = "{}"  # a line the shell refuses with {"error": "line N: ..."}: marks the end of one step's output
HANG_GUARD = 300  # seconds; only stops a hung process


def _tour() -> str:
    text = README.read_text()
    return text[text.index("## A 3-minute tour"):text.index("\n## ", text.index("## A 3-minute tour") + 5)]


def _tour_settings() -> dict[str, str]:
    """The VAR=value settings of the tour's command."""
    command = re.search(r"```sh\n(.*?)```", _tour(), re.DOTALL)
    assert command is not None
    words = shlex.split(command.group(1).replace("\\\n", " "))
    return dict(word.split("=", 1) for word in words if "=" in word)


class Shell:
    """One ``helpdesk shell --jsonl`` process, one step at a time."""

    def __init__(self, cwd: Path, settings: dict[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
        env.update(settings, HELPDESK_DATABASE_URL=f"sqlite:///{cwd / 'tour.db'}")
        self.process = subprocess.Popen([str(HELPDESK), "shell", "--jsonl"], cwd=cwd, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.sent = 0

    def send(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one input line; the lines it caused."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n" + SENTINEL + "\n")
        self.process.stdin.flush()
        self.sent += 2
        lines = []
        while True:
            raw = self.process.stdout.readline()
            assert raw, self.process.stderr.read() if self.process.stderr else "the shell stopped"
            line = json.loads(raw)
            if "error" in line and line["error"].startswith(f"line {self.sent}:"):
                return lines
            lines.append(line)

    def say(self, user: str, text: str) -> list[dict[str, Any]]:
        return self.send({"user": user, "text": text})

    def click(self, user: str, lines: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
        found = [b["id"] for line in lines for b in line["buttons"] if b["label"] == label]
        assert found, f"no button {label!r} in {lines}"
        return self.send({"user": user, "click": found[-1]})

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=HANG_GUARD)


def _to(lines: list[dict[str, Any]], who: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["to"] == who]


def _labels(line: dict[str, Any]) -> list[str]:
    return [b["label"] for b in line["buttons"]]


def test_the_readme_tour_shows_what_the_readme_says(tmp_path: Path) -> None:
    tour = _tour()
    settings = _tour_settings()
    assert settings["HELPDESK_TECHNICIANS"] == f"{TOM},{TIA}" and settings["HELPDESK_KB_BASE_URL"]
    shell = Shell(tmp_path, settings)
    try:
        # 1. hi, then what can you do: the bot lists what you may do.
        assert "Hi employee" in _to(shell.say(EMPLOYEE, "hi"), EMPLOYEE)[0]["text"]
        listed = _to(shell.say(EMPLOYEE, "what can you do"), EMPLOYEE)[0]["text"]
        assert "Reset your password" in listed and "announcement" not in listed.lower()

        # 2. I forgot my password → the self-service guide, then Yes: a card in the technicians' conversation
        # with Approve and Deny.
        asked = shell.say(EMPLOYEE, "I forgot my password")
        guide, offer = _to(asked, EMPLOYEE)
        assert guide["text"].startswith("This guide often fixes that") and _labels(guide) == ["That fixed it", "No"]
        assert _labels(offer) == ["Yes", "No"] and "(Yes)" in tour
        sent = shell.click(EMPLOYEE, asked, "Yes")
        [card] = _to(sent, "technicians")
        assert _labels(card) == ["Approve", "Deny"] and _to(sent, EMPLOYEE)

        # 3. Tom approves: the card changes in place, a task card with Done, the employee told; Done tells again.
        approved = shell.click(TOM, sent, "Approve")
        assert "Approved by tom@city.example." in tour
        assert any(line.get("replaces") == card["key"] and "Approved by tom@city.example." in line["text"]
                   for line in approved)
        task = [line for line in _to(approved, "technicians") if _labels(line) == ["Done"]]
        assert task and "approved" in _to(approved, EMPLOYEE)[0]["text"]
        done = shell.click(TOM, approved, "Done")
        assert "done" in _to(done, EMPLOYEE)[0]["text"]

        # 4. The copier: a guide first (That fixed it), then the preview → Submit → HELP-1; its status for the
        # employee, refused to another.
        preview = shell.say(EMPLOYEE, "the copier on 3rd floor keeps jamming")
        guide, ticket = _to(preview, EMPLOYEE)
        assert guide["text"].startswith("This guide often fixes that") and _labels(guide) == ["That fixed it", "No"]
        assert _labels(ticket) == ["Submit", "Edit"] and "preview" in tour
        filed = shell.click(EMPLOYEE, preview, "Submit")
        assert "HELP-1" in _to(filed, EMPLOYEE)[0]["text"]
        status = _to(shell.say(EMPLOYEE, "any update on HELP-1?"), EMPLOYEE)[0]
        assert "Status: open" in status["text"] and status["private"]
        assert "can't find a ticket of yours" in _to(shell.say(BOB, "any update on HELP-1?"), BOB)[0]["text"]

        # 5. A how-to: steps, "Did this help?" and the Full guide link (HELPDESK_KB_BASE_URL); No offers a ticket.
        answer = _to(shell.say(EMPLOYEE, "how do I connect to the VPN from home"), EMPLOYEE)[0]
        assert "1. " in answer["text"] and "Did this help?" in answer["text"]
        assert f"Full guide: {settings['HELPDESK_KB_BASE_URL']}/vpn-from-home" in answer["text"]
        assert _labels(answer)[-1] == "No"
        offer = _to(shell.click(EMPLOYEE, [answer], "No"), EMPLOYEE)[0]
        assert _labels(offer) == ["Open a ticket"]

        # 6. Phishing: safe steps, the question the README quotes; Yes alerts the technicians, urgent HELP-2.
        steps = shell.say(EMPLOYEE, "I got a weird email asking for my password")
        question = _to(steps, EMPLOYEE)[-1]
        assert f'"{question["text"]}"' in tour.replace("\n   ", " ")
        alerted = shell.click(EMPLOYEE, steps, "Yes")
        assert "HELP-2" in _to(alerted, "technicians")[0]["text"] and "(`HELP-2`)" in tour

        # 7. The composer: as many inputs as the README says, the first six filled from the text.
        composer = [line["form"] for line in shell.say(TOM, "announce email maintenance Saturday 6am to 10am")
                    if line.get("form")][-1]
        counted = re.search(r"the composer asks its (\d+) inputs", tour.replace("\n   ", " "))
        assert counted is not None and int(counted.group(1)) == len(composer["inputs"])
        assert all(item["initial"] for item in composer["inputs"][:6])
        values = {item["name"]: item["initial"] for item in composer["inputs"]}
        preview = _to(shell.send({"user": TOM, "submit": composer["submit"], "values": values}), TOM)[0]
        assert "needs a second technician" in preview["text"] and _labels(preview)[0] == "Ask for approval"
        requested = shell.click(TOM, [preview], "Ask for approval")
        sent_out = shell.click(TIA, requested, "Approve")
        assert _to(sent_out, EMPLOYEE) and "Email maintenance" in _to(sent_out, EMPLOYEE)[0]["text"]
        down = _to(shell.say(EMPLOYEE, "is email down?"), EMPLOYEE)[0]
        assert "Email maintenance" in down["text"]
    finally:
        shell.close()
