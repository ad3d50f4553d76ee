"""Benchmark the Teams channel: activity in over HTTP, reply out to a fake Bot Connector.

Run from the project root with the project's Python: ``python bench/teams_turns.py``
(``--messages N``, 200 by default). The bot runs in-process on a fresh SQLite
database with anonymous auth on 127.0.0.1, and every activity's ``serviceUrl`` is
the fake connector of the tests (``tests/fakes/teams_connector.py``). It measures,
per message from one of 20 employees:

- the **ack**: from the POST to /api/messages to its 202 (Teams wants it within 15 s);
- the **reply**: from the POST to the moment the bot's reply has reached the connector;

and, for 20 password resets, the **invoke** round trip of the technician's Approve
click (the turn runs before the invoke is answered, including the card update).
Prints median and p95 and writes them to ``bench/results/teams_turns.json``.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import Bot  # noqa: E402
from bot.nlu import EmbeddedParser, load_training_data  # noqa: E402
from tests.channels.teams.harness import TeamsHarness, teams_settings  # noqa: E402
from tests.contracts.channel import button  # noqa: E402
from tests.fakes.teams_connector import FakeConnector  # noqa: E402
from tests.support import make_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "teams_turns.json"
TEXTS = ("hi", "is email down?", "how do I connect to the VPN from home", "thanks", "what can you do")

__all__ = ["main"]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _summary(name: str, seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    figures = {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(_p95(ms), 2),
               "max_ms": round(max(ms), 2)}
    print(f"{name}: median {figures['median_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms")
    return figures


async def _run(messages: int, folder: Path) -> dict[str, Any]:
    parser = EmbeddedParser.train(load_training_data(ROOT / "intents"))
    bot = Bot(make_settings(f"sqlite:///{folder / 'helpdesk.db'}", **teams_settings()), nlu=parser)
    bot.start()
    connector = await FakeConnector().start()
    teams = await TeamsHarness(bot, connector).start()
    acks: list[float] = []
    replies: list[float] = []
    invokes: list[float] = []
    try:
        for number in range(messages):
            user = f"employee{number % 20}@city.example"
            activity = teams.activity(user, teams.user(user).personal, "personal", text=TEXTS[number % len(TEXTS)])
            started = time.perf_counter()
            status, _ = await teams.post(activity)  # returns after the 202 and after the background turn
            replies.append(time.perf_counter() - started)
            assert status == 202
            acks.append(teams.last_ack_seconds)
            teams.new_lines()
        for number in range(20):
            user = f"reset{number}@city.example"
            lines = await teams.say(user, "I forgot my password")
            lines = await teams.click(user, button(lines, "Yes"))
            approve = button([line for line in lines if line["to"] == "technicians"], "Approve")
            started = time.perf_counter()
            await teams.click("tom@city.example", approve)
            invokes.append(time.perf_counter() - started)
    finally:
        await teams.stop()
        await connector.stop()
        bot.close()
    return {
        "messages": messages,
        "ack": _summary("ack (POST to 202)", acks),
        "reply": _summary("reply at the connector", replies),
        "approve_invoke": _summary("Approve invoke round trip", invokes),
        "connector_calls": len(connector.calls),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and write them as JSON."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--messages", type=int, default=200, help="how many messages (default 200)")
    args = options.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the SDK warns about the anonymous test set-up on every turn
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(_run(args.messages, Path(folder)))
    result.update(load_average_1m=round(os.getloadavg()[0], 2), python=platform.python_version(),
                  cpus=os.cpu_count())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    main()
