"""``helpdesk run`` with Slack credentials starts the Slack channel: HTTP mode, or Socket Mode with an app token."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from tests.channels.slack.harness import GROUPS, PEOPLE
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack

HELPDESK = Path(sys.executable).parent / "helpdesk"
SECRET = "run-test-secret"
HANG_GUARD = 120.0  # seconds; only stops a hung process, never an assertion about speed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The fake Slack, for the bot process to call."""
    server = FakeSlack(PEOPLE, groups=GROUPS)
    await server.start()
    yield server
    await server.stop()
    assert server.violations == []


async def _start(tmp_path: Path, fake: FakeSlack, port: int, **extra: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
    env.update(HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}", HELPDESK_PORT=str(port),
               SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake.api_url, **extra)
    return await asyncio.create_subprocess_exec(
        str(HELPDESK), "run", cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def _healthy(process: asyncio.subprocess.Process, port: int) -> None:
    deadline = time.monotonic() + HANG_GUARD
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline and process.returncode is None:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    _, stderr = await process.communicate()
    raise AssertionError(f"helpdesk run did not become healthy: {stderr.decode()[-2000:]}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), HANG_GUARD)


async def test_run_serves_slack_events_over_http(tmp_path: Path, fake: FakeSlack) -> None:
    """SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: POST /slack/events is served and checks signatures."""
    port = _free_port()
    process = await _start(tmp_path, fake, port, SLACK_SIGNING_SECRET=SECRET)
    try:
        await _healthy(process, port)
        body = json.dumps({"type": "url_verification", "challenge": "from-slack", "token": "x"})
        stamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        url = f"http://127.0.0.1:{port}/slack/events"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                assert response.status == 401
            async with session.post(url, data=body, headers={
                "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
            }) as response:
                assert response.status == 200 and "from-slack" in await response.text()
    finally:
        await _stop(process)


async def test_run_connects_in_socket_mode(tmp_path: Path, fake: FakeSlack) -> None:
    """SLACK_APP_TOKEN: the bot opens the fake's websocket, acks an envelope and answers the DM."""
    port = _free_port()
    process = await _start(tmp_path, fake, port, SLACK_APP_TOKEN=APP_TOKEN)
    try:
        await _healthy(process, port)
        person = fake.user_by_email("ann@city.example")
        event = {"type": "message", "channel_type": "im", "channel": person.dm, "user": person.id, "text": "hi",
                 "ts": "1700000000.000001"}
        ack = await fake.envelope("events_api", {"type": "event_callback", "event_id": "Ev0SOCKET1",
                                                 "team_id": "T0CITYHALL", "event": event}, timeout=HANG_GUARD)
        assert ack["envelope_id"]
        deadline = time.monotonic() + HANG_GUARD
        while not fake.calls_to("chat.postMessage") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        [reply] = fake.calls_to("chat.postMessage")
        assert reply.args["channel"] == person.dm and reply.token == BOT_TOKEN
        assert fake.calls_to("apps.connections.open")[0].token == APP_TOKEN
    finally:
        await _stop(process)
