"""``helpdesk run`` as a real process, for the fault tests: started, asked for /healthz, killed with SIGKILL.

The process runs this checkout's code (``PYTHONPATH`` is the project root), with
only the settings a test gives it, on its own port, in its own process group.
Signed Slack requests go to its ``/slack/events`` the way Slack sends them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.core.settings import PROJECT_ROOT
from tests.fakes.slack import BOT_USER, TEAM, SlackUser
from tests.servers.directories import free_port, stop

__all__ = ["HANG_GUARD", "SIGNING_SECRET", "BotProcess", "dm_event", "wait_until"]

SIGNING_SECRET = "fault-suite-signing-secret"
HANG_GUARD = 90.0  # seconds; only stops a hung test, never an assertion about speed


async def wait_until(condition: Callable[[], object], what: str | Callable[[], str],
                     seconds: float = HANG_GUARD) -> None:
    """Poll ``condition()`` (sync) until it is true; fail naming ``what`` (or what ``what()`` says) after
    ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what() if callable(what) else what}")
        await asyncio.sleep(0.05)


def dm_event(person: SlackUser, text: str, event_id: str, ts: str) -> str:
    """The Events API body Slack posts for ``person`` writing ``text`` in their DM with the bot."""
    event = {"type": "message", "channel_type": "im", "channel": person.dm, "user": person.id, "text": text,
             "ts": ts, "event_ts": ts}
    return json.dumps({"token": "unused", "team_id": TEAM, "api_app_id": "A0HELPDESK", "type": "event_callback",
                       "event": event, "event_id": event_id, "event_time": int(time.time()),
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})


class BotProcess:
    """One ``helpdesk run`` process with the given settings (``HELPDESK_*``, ``SLACK_*``)."""

    def __init__(self, workdir: Path, name: str, **settings: str) -> None:
        self.workdir = workdir
        self.name = name
        self.port = free_port()
        self.settings = {"HELPDESK_PORT": str(self.port), "SLACK_SIGNING_SECRET": SIGNING_SECRET, **settings}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{name}.log"

    @property
    def base_url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Its process id (it is in its ``job_claim`` rows and scheduler replica name)."""
        assert self.process is not None
        return self.process.pid

    def start(self) -> BotProcess:
        """Start it (a restart reuses the port and settings)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
        env.update(self.settings, PYTHONPATH=str(PROJECT_ROOT))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from bot.surfaces.cli import app; app()", "run"], cwd=self.workdir, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def log(self) -> str:
        """What it wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def health(self) -> dict[str, Any]:
        """Wait until ``/healthz`` answers 200; its body."""
        deadline = time.monotonic() + HANG_GUARD
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
                try:
                    async with session.get(f"{self.base_url}/healthz") as response:
                        if response.status == 200:
                            return dict(await response.json())
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not become healthy:\n{self.log()[-3000:]}")

    async def post(self, body: str, *, retry: int = 0) -> int:
        """POST a signed Events API ``body`` (``retry`` > 0 as Slack's retries are marked); the HTTP status."""
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp,
                                                                                             body=body)}
        if retry:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.base_url}/slack/events", data=body.encode(), headers=headers) as response:
                return response.status

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as in a crash or an OOM kill."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop it if it still runs."""
        if self.process is not None:
            stop(self.process)
