"""Benchmark announcement fan-out against a rate-limited fake Slack Web API, and scheduled-send jitter.

Run from the project root with the project's Python: ``python bench/notice_fanout.py``
(``--recipients N``, 5000 by default; ``--rate R`` messages per second the fake
allows, 100 by default).

Fan-out. A fake Slack Web API on 127.0.0.1 speaks ``chat.postMessage``,
``conversations.open`` and ``conversations.history`` (with message metadata)
and allows ``R`` ``chat.postMessage`` calls per one-second window; past that it
answers HTTP 429 with ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``.
The sender is a separate process: a Bot on a SQLite database with one
announcement to N employees, sending through the real Slack channel
(``bot/channels/slack/``: slack_sdk's ``AsyncWebClient`` with its retry
handlers, Block Kit, the key in message metadata, ``slack_message`` rows, and
``was_delivered`` reading ``conversations.history`` after a restart). The
technician's progress message is posted and updated (``chat.update``) like any
other. The bot paces itself at ``HELPDESK_FANOUT_RATE`` = R and honours Retry-After.

Three runs: a clean one; one in which the sender is killed with SIGKILL once
half the messages have arrived, then started again (it resumes from the
delivery rows); and, on PostgreSQL (``BENCH_POSTGRES_URL``, default the local
server; skipped when unreachable), two sender processes started at once on one
database. For each run the fake's own log gives duplicates (a key
received twice), missing (a recipient never received it) and the rate while
sending, as a share of R.

Jitter. A bot with the real clock runs the scheduler loop; a second Bot on the
same database (as ``helpdesk announce create`` would) adds 200 one-shot jobs
due over the next 10 seconds; each job records how late it ran. p50/p99/max.

Writes ``bench/results/notice_fanout.json``. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import Bot  # noqa: E402
from bot.channels.slack.channel import SlackChannel  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.services.scheduler import JobRun  # noqa: E402
from bot.store import Announcement, ChatAccount, EmployeeRecord  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "notice_fanout.json"
AUTHOR = "tech@city.example"
HANG_GUARD = 900  # seconds: give up on a sender that never finishes

__all__ = ["FakeSlack", "main"]


# The fake Slack Web API -----------------------------------------------------------------


class FakeSlack:
    """A Slack Web API stand-in: DMs, message metadata, and a per-second limit on chat.postMessage."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.window = 0
        self.in_window = 0
        self.blocked_until = 0.0
        self.accepted: list[dict[str, Any]] = []
        self.limited = 0
        self.early = 0
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.history_reads = 0

    def reset(self) -> None:
        """Forget everything (a new run)."""
        self.__init__(self.rate)  # type: ignore[misc]

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", self.post_message)
        app.router.add_post("/api/chat.update", self.update_message)
        app.router.add_post("/api/conversations.open", self.open)
        app.router.add_get("/api/conversations.history", self.read_history)
        app.router.add_post("/api/conversations.history", self.read_history)
        return app

    async def post_message(self, request: web.Request) -> web.Response:
        """``chat.postMessage``: accepted and logged within the limit, 429 with Retry-After past it."""
        if not request.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            return web.json_response({"ok": False, "error": "not_authed"})
        now = time.monotonic()
        second = int(now)
        if second != self.window:
            self.window, self.in_window = second, 0
        if self.in_window >= self.rate:
            self.limited += 1
            if now < self.blocked_until:
                self.early += 1  # came back before the Retry-After it was given
            self.blocked_until = second + 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(max(1, int(second + 1 - now + 0.999)))})
        self.in_window += 1
        body = await request.json()
        channel = str(body.get("channel", ""))
        metadata = body.get("metadata") or {}
        key = (metadata.get("event_payload") or {}).get("key", "")
        ts = f"{time.time():.6f}"
        message = {"ts": ts, "text": body.get("text", ""), "metadata": metadata}
        self.history.setdefault(channel, []).insert(0, message)
        if key.startswith("notice:"):  # the technician's progress messages count against the limit too
            self.accepted.append({"key": key, "channel": channel, "at": now,
                                  "sender": request.headers.get("Authorization", "")[-1:]})
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "message": message})

    async def update_message(self, request: web.Request) -> web.Response:
        """``chat.update`` (the technician's progress message): accepted, not limited."""
        body = await self._arguments(request)
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": body.get("ts"),
                                  "text": body.get("text", "")})

    @staticmethod
    async def _arguments(request: web.Request) -> dict[str, Any]:
        """A Web API call's arguments: slack_sdk sends them as query, form or JSON depending on the method."""
        values: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                values.update(await request.json())
            else:
                values.update(dict(await request.post()))
        return values

    async def open(self, request: web.Request) -> web.Response:
        """``conversations.open``: the DM channel of one user (D + the user id's digits)."""
        user = str((await self._arguments(request)).get("users", ""))
        if not user.startswith("U"):
            return web.json_response({"ok": False, "error": "user_not_found"})
        return web.json_response({"ok": True, "channel": {"id": "D" + user.removeprefix("U")}})

    async def read_history(self, request: web.Request) -> web.Response:
        """``conversations.history``: newest first, with metadata when ``include_all_metadata`` is set."""
        values = await self._arguments(request)
        self.history_reads += 1
        messages = self.history.get(values.get("channel", ""), [])[: int(values.get("limit", 100))]
        include = values.get("include_all_metadata") in ("1", "true", "True")
        shown = [m if include else {k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return web.json_response({"ok": True, "messages": shown, "has_more": False})


# The sender process ---------------------------------------------------------------------------


def bench_settings(database_url: str, rate: int, slack_url: str = "", token: str = "") -> Settings:
    """The sender's settings."""
    return Settings(_env_file=None, database_url=database_url, technicians=[AUTHOR],  # type: ignore[call-arg]
                    broadcast_two_person=False, fanout_concurrency=16, fanout_rate=rate,
                    slack_bot_token=token, slack_api_url=slack_url or "https://slack.com/api/")


async def sender(database_url: str, slack_url: str, announcement_id: int, rate: int, token: str) -> None:
    """Send (or resume sending) the announcement, as a serving bot would."""
    bot = Bot(bench_settings(database_url, rate, slack_url, token))
    bot.db.migrate()
    bot.scheduler.start()
    bot.announcements.lease = timedelta(seconds=3)  # a killed sender's claims lapse after this
    channel = SlackChannel(bot)
    channel.client.session = ClientSession(connector=TCPConnector(limit=32))  # one connection pool
    bot.add_channel(channel)
    try:
        row = await bot.announcements.get(announcement_id)
        assert row is not None
        if row.status == "sending":
            await bot.announcements.resume()  # takes the killed sender's rows over once its claims lapse
        else:
            await bot.announcements.send(announcement_id)
    finally:
        await channel.close()
        bot.close()


def setup(database_url: str, recipients: int, rate: int) -> int:
    """A database with ``recipients`` Slack users and one announcement to all staff, ready to send."""
    bot = Bot(bench_settings(database_url, rate))
    bot.db.migrate()

    def fill(session: Any) -> int:
        for n in range(recipients):
            email = f"employee{n:05d}@city.example"
            session.add(EmployeeRecord(email=email, display_name=f"Employee {n}"))
            session.add(ChatAccount(channel="slack", user_id=f"U{n:05d}", email=email,
                                    private_conversation=None if n % 2 else f"D{n:05d}"))
        session.add(ChatAccount(channel="slack", user_id="UTECH", email=AUTHOR, private_conversation="DTECH"))
        row = Announcement(kind="outage", title="Email is down", body="We are working on it.",
                           audience={"all": True}, status="scheduled", created_by=AUTHOR)
        session.add(row)
        session.flush()
        return int(row.id or 0)

    announcement_id = bot.db.call(fill)
    bot.close()
    return announcement_id


# The runs -----------------------------------------------------------------------------------


def _spawn(database_url: str, slack_url: str, announcement_id: int, rate: int, generation: int
           ) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--sender", database_url, slack_url, str(announcement_id),
         str(rate), f"xoxb-bench-{generation}"],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )


def _segment_rates(accepted: list[dict[str, Any]], rate: int) -> list[dict[str, Any]]:
    """Messages per second while each sender process was sending, as a share of the allowed rate."""
    segments = []
    for generation in sorted({a["sender"] for a in accepted}):
        times = [a["at"] for a in accepted if a["sender"] == generation]
        span = max(times) - min(times)
        per_second = (len(times) - 1) / span if span > 0 else 0.0
        segments.append({"sender": int(generation), "messages": len(times), "seconds": round(span, 2),
                         "per_second": round(per_second, 1), "share_of_allowed": round(per_second / rate, 3)})
    return segments


async def fan_out(fake: FakeSlack, slack_url: str, recipients: int, rate: int, kill: bool,
                  database_url: str | None = None, replicas: int = 1) -> dict[str, Any]:
    """One fan-out run; with ``kill`` the sender is SIGKILLed halfway and started again.

    With ``replicas`` = 2 (on PostgreSQL), two sender processes are started at once on one database.
    """
    fake.reset()
    if database_url is None:
        database_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='fanout-')) / 'helpdesk.db'}"
    announcement_id = await asyncio.to_thread(setup, database_url, recipients, rate)
    started = time.monotonic()
    process = _spawn(database_url, slack_url, announcement_id, rate, 1)
    others = [_spawn(database_url, slack_url, announcement_id, rate, n + 2) for n in range(replicas - 1)]
    killed_at = None
    if kill:
        while len(fake.accepted) < recipients // 2 and process.poll() is None:
            await asyncio.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait)
        killed_at = len(fake.accepted)
        process = _spawn(database_url, slack_url, announcement_id, rate, 2)
    code = await asyncio.to_thread(process.wait, HANG_GUARD)
    for other in others:
        code = code or await asyncio.to_thread(other.wait, HANG_GUARD)
    elapsed = time.monotonic() - started
    keys = Counter(a["key"] for a in fake.accepted)
    expected = {f"notice:{announcement_id}:user:employee{n:05d}@city.example" for n in range(recipients)}
    return {
        "killed": kill, "killed_after_messages": killed_at, "exit_code": code, "sender_processes": replicas,
        "database": database_url.split(":", 1)[0].split("+")[0],
        "recipients": recipients, "received": len(fake.accepted),
        "duplicates": sum(count - 1 for count in keys.values() if count > 1),
        "missing": len(expected - set(keys)), "unexpected": len(set(keys) - expected),
        "rate_limited_429": fake.limited, "requests_before_retry_after": fake.early,
        "history_reads": fake.history_reads,
        "wall_seconds": round(elapsed, 2), "segments": _segment_rates(fake.accepted, rate),
    }


async def two_senders_on_postgres(fake: FakeSlack, slack_url: str, recipients: int, rate: int) -> dict[str, Any]:
    """Two sender processes at once on one PostgreSQL database (``BENCH_POSTGRES_URL``); skipped without one."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import OperationalError

    base = make_url(os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"bench_fanout_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        return {"skipped": f"PostgreSQL not reachable: {str(exc).splitlines()[0]}"}
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        return await fan_out(fake, slack_url, recipients, rate, kill=False, database_url=url, replicas=2)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


LATENESS: list[float] = []


async def jitter_job(bot: Bot, run: JobRun, number: int) -> None:
    """Record how late this run started."""
    LATENESS.append((datetime.now(UTC) - run.run_time).total_seconds())


async def jitter(jobs: int = 200, spread: float = 10.0) -> dict[str, Any]:
    """Scheduled-send lateness with the real clock and the serving loop."""
    folder = Path(tempfile.mkdtemp(prefix="jitter-"))
    url = f"sqlite:///{folder / 'helpdesk.db'}"
    serving, adding = Bot(bench_settings(url, 100)), Bot(bench_settings(url, 100))
    for bot in (serving, adding):
        bot.db.migrate()
        bot.scheduler.start()
    LATENESS.clear()
    loop = asyncio.create_task(serving.scheduler.run_forever())
    start = datetime.now(UTC) + timedelta(seconds=3)

    def add_all() -> None:  # another process's work (helpdesk announce create): off the serving loop
        for number in range(jobs):
            adding.scheduler.add_at(jitter_job, start + timedelta(seconds=random.uniform(0, spread)),
                                    id=f"jitter:{number}", args=(number,))

    adding_started = time.monotonic()
    await asyncio.to_thread(add_all)
    adding_seconds = time.monotonic() - adding_started  # under 3 s, so no job was added after it was due
    deadline = time.monotonic() + spread + 10
    while len(LATENESS) < jobs and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    loop.cancel()
    await serving.scheduler.drain()
    for bot in (serving, adding):
        bot.close()
    ordered = sorted(LATENESS)
    p = (lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if ordered else (lambda q: float("nan"))
    return {"jobs": jobs, "ran": len(ordered), "adding_seconds": round(adding_seconds, 2),
            "p50_seconds_late": round(p(0.50), 4), "p99_seconds_late": round(p(0.99), 4),
            "max_seconds_late": round(max(ordered, default=float("nan")), 4),
            "mean_seconds_late": round(statistics.fmean(ordered), 4) if ordered else None}


async def run(recipients: int, rate: int) -> dict[str, Any]:
    """Both fan-out runs and the jitter run."""
    fake = FakeSlack(rate)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    slack_url = f"http://127.0.0.1:{port}/api/"
    try:
        clean = await fan_out(fake, slack_url, recipients, rate, kill=False)
        print(json.dumps(clean), flush=True)
        killed = await fan_out(fake, slack_url, recipients, rate, kill=True)
        print(json.dumps(killed), flush=True)
        replicas = await two_senders_on_postgres(fake, slack_url, recipients, rate)
        print(json.dumps(replicas), flush=True)
    finally:
        await runner.cleanup()
    timing = await jitter()
    print(json.dumps(timing), flush=True)
    return {"allowed_rate_per_second": rate, "clean_run": clean, "sigkill_run": killed,
            "two_senders_postgres": replicas, "scheduler_jitter": timing,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--sender", nargs=5, metavar=("DB", "SLACK", "ID", "RATE", "TOKEN"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sender:
        database_url, slack_url, announcement_id, rate, token = args.sender
        asyncio.run(sender(database_url, slack_url, int(announcement_id), int(rate), token))
        return
    results = asyncio.run(run(args.recipients, args.rate))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
