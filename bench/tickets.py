"""Benchmark the ticket paths: filing through the outbox (built-in queue and Jira), draining a Jira outage,
and one polling round.

Run from the project root: ``python bench/tickets.py``. Jira is the fake Jira
of the tests (``tests/fakes/jira.py``) on 127.0.0.1, with its spec checks off,
so the Jira figures are the bot's own cost plus a local HTTP round trip, not
a real Jira's latency. It prints the figures and writes them to
``bench/results/tickets.json``. Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import logging
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
from bot.core.errors import TicketQueued  # noqa: E402
from tests.fakes.jira import JiraFake, jira_settings  # noqa: E402
from tests.support import Clock, make_settings  # noqa: E402

__all__ = ["main"]

TICKETS = 200
RESULTS = ROOT / "bench" / "results" / "tickets.json"


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)}


async def _file(bot: Bot, count: int) -> list[float]:
    took = []
    for n in range(count):
        started = time.perf_counter()
        await bot.tickets.create(reporter=f"user{n % 20}@city.example", summary=f"Printer {n} jams",
                                 description="It jams on every job.", system="printer")
        took.append(time.perf_counter() - started)
    return took


async def _bench(folder: Path) -> dict[str, Any]:
    clock = Clock()
    results: dict[str, Any] = {}

    builtin = Bot(make_settings(f"sqlite:///{folder / 'builtin.db'}"), clock=clock)
    builtin.db.migrate()
    results["builtin_create"] = _ms(await _file(builtin, TICKETS))
    builtin.close()

    fake = JiraFake(clock=clock, check_specs=False).start()
    jira = Bot(make_settings(f"sqlite:///{folder / 'jira.db'}", **jira_settings(fake)), clock=clock)
    jira.db.migrate()
    jira.tickets.check()
    results["jira_create"] = _ms(await _file(jira, TICKETS // 2))

    fake.fail_next(503, times=TICKETS)
    for n in range(TICKETS):
        try:
            await jira.tickets.create(reporter="ann@city.example", summary=f"Outage request {n}")
        except TicketQueued:
            pass
    fake.failures.clear()
    clock.advance(minutes=5)
    started = time.perf_counter()
    filed = await jira.ticket_outbox.retry_due()
    drain = time.perf_counter() - started
    results["outbox_drain"] = {"requests": filed, "seconds": round(drain, 3),
                               "per_second": round(filed / drain, 1)}

    for key in list(fake.issues)[: TICKETS // 2]:
        fake.move(key, "In Progress")
    clock.advance(minutes=3)
    started = time.perf_counter()
    told = await jira.tickets_sync.poll_once()
    results["poll_round"] = {"changed_tickets": told, "seconds": round(time.perf_counter() - started, 3)}
    jira.close()
    fake.stop()
    return results


def main() -> None:
    """Run the benchmark, print it, and write bench/results/tickets.json."""
    logging.disable(logging.WARNING)  # the employees of the benchmark have no chat to be told in
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(_bench(Path(folder)))
    results["python"] = platform.python_version()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
