"""Benchmark the Slack channel in HTTP mode: signed events per second and time-to-ack, and the bot's memory.

Run from the project root with the project's Python: ``python bench/slack_http.py``
(``--seconds``, ``--senders``, ``--database-url`` to change the defaults: 15 s,
50 concurrent senders, a fresh SQLite file). Three processes on loopback:

1. the fake Slack Web API (``tests/fakes/slack.py``, spec-checked as in the tests),
2. ``helpdesk run`` itself, with ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and
   ``SLACK_API_URL`` pointing at the fake: bolt on the bot's aiohttp server,
3. this process: ``--senders`` aiohttp clients, each posting signed Events API
   callbacks (DMs from 200 employees: greetings, outage questions, how-to
   questions) to ``POST /slack/events`` one after another.

Time-to-ack is from just before a request is sent to its response. After the
load stops, the script waits for the bot to finish the after-ack work and
counts the replies the fake received, so the figures also say whether the bot
kept up; ``bot_cpu_ms_per_event`` is the bot's CPU time (acks and all the work
after them) per event, a figure that does not depend on what else the machine
runs. ``--ack-only`` sends an event type the bot acks and ignores, to time the
ack path alone; ``--rate 0`` sends as fast as the bot acks. The bot's resident
memory is read from ``/proc/<pid>/status`` (VmRSS at the end of the load, VmHWM
peak). Results go to ``bench/results/slack_http.json``. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "slack_http.json"
SECRET = "bench-signing-secret"
PEOPLE = 200
TEXTS = ["hi", "is email down?", "how do I connect to the VPN from home", "thanks", "what can you do"]
WARM_UP = 2.0  # seconds of load before measuring (NLU, first users.info per person)

__all__ = ["main"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_kb(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time used so far by ``pid`` (from /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def serve_fake(port_file: str) -> None:
    """Process 1: the fake Slack, forever; writes its port to ``port_file`` and prints its counters on SIGTERM."""
    import signal

    from tests.fakes.slack import FakeSlack, SlackUser

    async def run() -> None:
        users = [SlackUser(f"U0BENCH{n:04d}", f"person{n}@city.example", f"Person {n}") for n in range(PEOPLE)]
        fake = FakeSlack(users)
        await fake.start()
        Path(port_file).write_text(str(fake.port))
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        counter = Path(port_file + ".calls")
        while not stop.is_set():
            counter.write_text(json.dumps({
                "postMessage": len(fake.calls_to("chat.postMessage")), "calls": len(fake.calls),
                "violations": fake.violations[:5], "errors": sum(1 for c in fake.calls if c.error)}))
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
        await fake.stop()

    asyncio.run(run())


def _event(n: int, verifier: SignatureVerifier, ignored: bool) -> tuple[bytes, dict[str, str]]:
    person = n % PEOPLE
    user = f"U0BENCH{person:04d}"
    dm = "D" + user[1:].ljust(9, "0")
    ts = f"{int(time.time())}.{n % 1000000:06d}"
    event = {"type": "message", "channel_type": "im", "channel": dm, "user": user,
             "text": TEXTS[n % len(TEXTS)], "ts": ts, "event_ts": ts}
    if ignored:  # an event type the bot acks and ignores: the ack path alone
        event = {"type": "reaction_added", "user": user, "reaction": "thumbsup",
                 "item": {"type": "message", "channel": dm, "ts": ts}, "event_ts": ts}
    body = json.dumps({
        "token": "unused", "team_id": "T0CITYHALL", "api_app_id": "A0HELPDESK", "type": "event_callback",
        "event_id": f"Ev{n:010d}", "event_time": int(time.time()), "event": event,
    })
    stamp = str(int(time.time()))
    return body.encode(), {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body)}


async def load(url: str, senders: int, seconds: float, rate: float, ignored: bool = False) -> dict[str, Any]:
    """Process 3: ``senders`` clients posting signed events for ``seconds`` (after the warm-up).

    With ``rate`` > 0 the senders share that many events per second, each on a fixed schedule
    (a late answer does not slow the schedule down); with 0 each sends its next event as soon
    as the last one is acked (the most the bot can ack).
    """
    import aiohttp

    verifier = SignatureVerifier(SECRET)
    numbers = itertools.count()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.monotonic()
    measure_from, stop_at = started + WARM_UP, started + WARM_UP + seconds
    sent_measured = 0

    async def sender(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal sent_measured
        interval = senders / rate if rate > 0 else 0.0
        slot = started + index * interval / senders
        while time.monotonic() < stop_at:
            if interval:
                slot += interval
                await asyncio.sleep(max(0.0, slot - time.monotonic()))
            body, headers = _event(next(numbers), verifier, ignored)
            before = time.monotonic()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
            after = time.monotonic()
            if before >= measure_from:
                latencies.append(after - before)
                statuses[status] = statuses.get(status, 0) + 1
                sent_measured += 1

    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(sender(session, i) for i in range(senders)))
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "events_sent_total": next(numbers),
        "events_measured": sent_measured,
        "events_per_second": round(sent_measured / seconds, 1),
        "ack_ms_p50": pct(0.50), "ack_ms_p95": pct(0.95), "ack_ms_p99": pct(0.99),
        "ack_ms_max": round(latencies[-1] * 1000, 2),
        "ack_ms_mean": round(statistics.fmean(latencies) * 1000, 2),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def main() -> None:
    """Start the fake and ``helpdesk run``, drive the load, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--rate", type=float, default=300.0, help="events/s in all; 0 = as fast as acked")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--ack-only", action="store_true", help="events the bot acks and ignores (no replies)")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON ('' for nowhere)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="slack-bench-"))
    port_file = str(folder / "fake.port")
    fake = subprocess.Popen([sys.executable, __file__, "--fake", port_file], cwd=ROOT)
    while not Path(port_file).exists() or not Path(port_file).read_text():
        time.sleep(0.05)
    fake_url = f"http://127.0.0.1:{Path(port_file).read_text()}/api/"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
    env.update(HELPDESK_DATABASE_URL=args.database_url or f"sqlite:///{folder / 'bench.db'}",
               HELPDESK_PORT=str(port), HELPDESK_LOG_LEVEL="WARNING", SLACK_BOT_TOKEN="xoxb-fake-bot-token",
               SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake_url, HELPDESK_SLACK_TECHNICIAN_CHANNEL="C0TECHS001")
    helpdesk = Path(sys.executable).parent / "helpdesk"
    bot = subprocess.Popen([str(helpdesk), "run"], cwd=folder, env=env, stdin=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        rss_idle = _proc_kb(bot.pid, "VmRSS")
        load_before = round(os.getloadavg()[0], 2)
        cpu_before = _cpu_seconds(bot.pid) or 0.0
        result = asyncio.run(load(f"http://127.0.0.1:{port}/slack/events", args.senders, args.seconds,
                                  args.rate, args.ack_only))
        rss_load = _proc_kb(bot.pid, "VmRSS")
        cpu_load = (_cpu_seconds(bot.pid) or 0.0) - cpu_before
        sent = result["events_sent_total"]
        drain_started = time.monotonic()
        counts: dict[str, Any] = {}
        while time.monotonic() - drain_started < 120 and not args.ack_only:
            counts = json.loads(Path(port_file + ".calls").read_text() or "{}")
            if counts.get("postMessage", 0) >= sent:
                break
            time.sleep(0.5)
        cpu_total = (_cpu_seconds(bot.pid) or 0.0) - cpu_before
        result.update(
            bot_cpu_ms_per_event=round(cpu_total / sent * 1000, 2),
            replies_posted=counts.get("postMessage", 0),
            seconds_to_finish_after_load=round(time.monotonic() - drain_started, 1),
            processed_per_second=round(counts.get("postMessage", 0)
                                       / (WARM_UP + args.seconds + time.monotonic() - drain_started), 1),
            web_api_errors=counts.get("errors"), spec_violations=counts.get("violations"),
            bot_rss_mb_idle=rss_idle, bot_rss_mb_end_of_load=rss_load,
            bot_peak_rss_mb=_proc_kb(bot.pid, "VmHWM"),
            senders=args.senders, seconds=args.seconds, ack_only=args.ack_only,
            target_rate=args.rate or "as fast as acked", database="postgresql" if args.database_url else "sqlite",
            bot_cpu_seconds_during_load=round(cpu_load, 2),
            bot_cpu_share_during_load=round(cpu_load / (WARM_UP + args.seconds), 2),
            load_average_1m_before=load_before, load_average_1m_after=round(os.getloadavg()[0], 2),
            python=platform.python_version(), cpus=os.cpu_count(),
        )
    finally:
        bot.terminate()
        bot.wait(timeout=60)
        fake.terminate()
        fake.wait(timeout=60)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--fake":
        serve_fake(sys.argv[2])
    else:
        main()
