"""Benchmark the manager's dashboard on a year of data: 100,000 conversations on PostgreSQL.

Run from the project root: ``python bench/dashboard.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/x]``.
It (re)creates the database ``bench_dashboard`` on that server (default: the tests' server), fills it with
a year of conversations ending the way a city desk's do (with the tickets, resets and unlocks, approvals,
audit lines, announcements, deliveries and acknowledgements that go with them), then times
``GET /dashboard`` (the whole page: figures, charts and the technicians' tables) for 7, 30 and 90 days
and a month, ``GET /dashboard.json?days=90`` and the monthly CSV, each ten times after one warm-up with
every chart drawn anew, and ten times with the charts kept from the request before. ``--reuse`` times an
already filled database again.
It prints the figures and writes ``bench/results/dashboard.json``. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import create_engine, insert, make_url, text  # noqa: E402

from bot.app import Bot  # noqa: E402
from bot.nlu import EmbeddedParser, load_training_data  # noqa: E402
from bot.reports import charts  # noqa: E402
from bot.store import (  # noqa: E402
    AccountRequest,
    Acknowledgement,
    Announcement,
    Approval,
    AuditEntry,
    Conversation,
    Database,
    Delivery,
    Ticket,
    TicketLink,
)
from bot.surfaces.server import build_web_app  # noqa: E402
from tests.support import TECHNICIANS, make_settings  # noqa: E402

__all__ = ["main"]

CONVERSATIONS = 100_000
DAYS = 365
RUNS = 10
TOKEN = "bench-dashboard-token"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RESULTS = ROOT / "bench" / "results" / "dashboard.json"
DEPARTMENTS = ("Police", "Fire", "Public Works", "Parks and Recreation", "Finance", "Planning", "Utilities",
               "City Clerk", "Library", "Human Resources", "")
CHANNELS = (("slack", 0.55), ("teams", 0.4), ("console", 0.05))
REQUESTS = (  # skill, intent, topic, weight, outcomes (resolved_confirmed, potential, escalated, abandoned)
    ("howto", "howto", ("howto: vpn-from-home", "howto: outlook-out-of-office", "howto: scan-to-email",
                        "howto: voicemail-pin", "howto"), 0.34, (0.25, 0.4, 0.2, 0.15)),
    ("accounts", "reset_password", ("reset_password",), 0.18, (0.55, 0.0, 0.35, 0.1)),
    ("accounts", "unlock_account", ("unlock_account",), 0.07, (0.6, 0.0, 0.3, 0.1)),
    ("tickets", "open_ticket", ("open_ticket: printer", "open_ticket: computer", "open_ticket: phone",
                                "open_ticket"), 0.16, (0.0, 0.0, 0.85, 0.15)),
    ("tickets", "ticket_status", ("ticket_status",), 0.08, (0.9, 0.0, 0.0, 0.1)),
    ("notices", "outage_status", ("outage_status: outlook", "outage_status: vpn", "outage_status"), 0.07,
     (0.5, 0.3, 0.15, 0.05)),
    ("notices", "report_phishing", ("report_phishing",), 0.03, (0.7, 0.0, 0.25, 0.05)),
    ("smalltalk", "human_handoff", ("human_handoff",), 0.03, (0.0, 0.0, 1.0, 0.0)),
)
MISSED = ("can you order me a new chair for my desk", "whats the wifi password for the council chambers",
          "the badge reader at the annex door beeps red", "who do i talk to about my paycheck stub",
          "is the parking garage open saturday", "my desk phone shows the wrong name on caller id",
          "can i get adobe pro installed", "the projector in room 204 has no signal")


def _database(url: str) -> str:
    base = make_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "bench_dashboard" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "bench_dashboard"'))
    admin.dispose()
    return base.set(database="bench_dashboard").render_as_string(hide_password=False)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def _fill(db: Database) -> dict[str, int]:
    """A year of conversations and what goes with them, in bulk inserts."""
    rng = random.Random(15)
    conversations: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    approvals: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for _ in range(CONVERSATIONS):
        started = NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        email = f"employee{rng.randrange(2500)}@city.example"
        row = {"email": email, "channel": _pick(rng, CHANNELS), "department": rng.choice(DEPARTMENTS),
               "first_text": "", "missed_text": None, "escalation": None, "started_at": started,
               "updated_at": started + timedelta(minutes=2), "answered_at": None, "ended_at": None}
        if rng.random() < 0.07:
            row.update(skill="fallback", intent="", topic="", missed_text=rng.choice(MISSED),
                       outcome=rng.choice(("declined", "abandoned")))
        else:
            skill, intent, topics, _, odds = rng.choices(REQUESTS, [r[3] for r in REQUESTS])[0]
            outcome = rng.choices(("resolved_confirmed", "resolved_potential", "escalated", "abandoned"), odds)[0]
            if NOW - started < timedelta(hours=72) and outcome == "resolved_potential":
                outcome = "answered"
            row.update(skill=skill, intent=intent, topic=rng.choice(topics), outcome=outcome)
            if outcome == "escalated":
                how = {"accounts": "approval", "smalltalk": "handoff"}.get(skill, "ticket")
                row["escalation"] = how
                if how == "ticket":
                    key = f"HELP-{len(tickets) + 1}"
                    tickets.append({"key": key, "created": started, "reporter": email})
                    if rng.random() < 0.8:
                        audit.append({"at": started + timedelta(minutes=rng.expovariate(1 / 240)),
                                      "actor": rng.choice(TECHNICIANS), "action": "ticket.take", "target": key,
                                      "outcome": "ok", "detail": ""})
            if skill == "accounts":
                status = {"resolved_confirmed": "done", "escalated": rng.choice(("done", "denied", "expired")),
                          "abandoned": "new"}.get(outcome, "done")
                method = "approval" if outcome == "escalated" else "self_service"
                requests.append({"requester": email, "target": email, "action": intent, "method": method,
                                 "status": status, "created_at": started, "updated_at": started})
                if method == "approval":
                    decided = None if status == "expired" else started + timedelta(
                        minutes=rng.expovariate(1 / 12))
                    approvals.append({"skill": "accounts", "action": intent, "summary": f"{intent} {email}",
                                      "details": [], "data": {}, "requester": email, "requester_channel": "slack",
                                      "requester_conversation": "D1", "target": email,
                                      "approver_role": "technician",
                                      "status": {"done": "done", "denied": "denied"}.get(status, "expired"),
                                      "decided_by": rng.choice(TECHNICIANS) if decided else None,
                                      "decided_at": decided, "created_at": started,
                                      "expires_at": started + timedelta(minutes=30)})
        conversations.append(row)
    open_keys = {t["key"] for t in tickets[-300:]}
    with db.session() as session:
        for table, rows in ((Conversation, conversations), (AccountRequest, requests), (Approval, approvals),
                            (AuditEntry, audit)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start:start + 5000])  # type: ignore[arg-type]
        session.execute(insert(TicketLink), [  # type: ignore[arg-type]
            {"key": t["key"], "backend": "builtin", "reporter": t["reporter"], "created_at": t["created"],
             "updated_at": t["created"]} for t in tickets])
        session.execute(insert(Ticket), [  # type: ignore[arg-type]
            {"key": t["key"], "reporter": t["reporter"], "summary": "Printer jams on every job", "description": "",
             "urgency": rng.choice(("urgent", "high", "normal", "normal", "low")),
             "status": "open" if t["key"] in open_keys else "resolved", "created_at": t["created"],
             "updated_at": t["created"]} for t in tickets])
        for number in range(20):
            sent = NOW - timedelta(days=4 * number + 1)
            announcement = Announcement(title=f"Email maintenance window {number}", created_by=TECHNICIANS[0],
                                        status="sent", ack_required=number % 2 == 0, sent_at=sent, total=2000,
                                        sent=2000)
            session.add(announcement)
            session.flush()
            session.execute(insert(Delivery), [  # type: ignore[arg-type]
                {"announcement_id": announcement.id, "recipient": f"user:employee{k}@city.example",
                 "status": "sent", "sent_at": sent, "attempts": 1, "error": ""} for k in range(2000)])
            if announcement.ack_required:
                session.execute(insert(Acknowledgement), [  # type: ignore[arg-type]
                    {"announcement_id": announcement.id, "email": f"employee{k}@city.example", "at": sent}
                    for k in range(rng.randrange(800, 1900))])
        session.commit()
    with db.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return {"conversations": len(conversations), "tickets": len(tickets), "open_tickets": len(open_keys),
            "account_requests": len(requests), "approvals": len(approvals), "deliveries": 20 * 2000}


async def _time(client: TestClient, path: str) -> dict[str, float]:
    """Seconds per request: ``drawn`` with every chart drawn anew, ``kept`` with the charts kept from the
    request before (what a refresh with unchanged numbers costs)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get(path, headers=headers)).status == 200  # warm-up: the database's caches
    figures: dict[str, float] = {}
    for name, clear in (("drawn", True), ("kept", False)):
        took = []
        for _ in range(RUNS):
            if clear:
                charts._bars.cache_clear()
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            await response.read()
            took.append(time.perf_counter() - started)
            assert response.status == 200
        figures[f"{name}_median_s"] = round(statistics.median(took), 3)
        figures[f"{name}_max_s"] = round(max(took), 3)
    return figures


async def _bench(bot: Bot) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with TestClient(TestServer(build_web_app(bot), host="127.0.0.1")) as client:
        for path in ("/dashboard?days=7", "/dashboard?days=30", "/dashboard?days=90", "/dashboard?month=2026-11",
                     "/dashboard.json?days=90", "/dashboard/report?month=2026-11&format=csv"):
            results[path] = await _time(client, path)
            print(path, results[path], flush=True)
    return results


def main() -> None:
    """Fill the database, time the pages, print the figures and write bench/results/dashboard.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("HELPDESK_TEST_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--reuse", action="store_true", help="time the database filled by the last run")
    arguments = parser.parse_args()
    url = (make_url(arguments.url).set(database="bench_dashboard").render_as_string(hide_password=False)
           if arguments.reuse else _database(arguments.url))
    settings = make_settings(url, dashboard_token=TOKEN)
    bot = Bot(settings, nlu=EmbeddedParser.train(load_training_data(settings.intents_dir)), clock=lambda: NOW)
    bot.start()
    earlier = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    made: dict[str, Any] = earlier.get("data", {"conversations": CONVERSATIONS})
    filled = earlier.get("fill_seconds", 0.0)
    if not arguments.reuse:
        started = time.perf_counter()
        made = _fill(bot.db)
        filled = round(time.perf_counter() - started, 1)
        print(f"filled in {filled} s: {made}", flush=True)
    try:
        results = {"data": made, "fill_seconds": filled, "renders": asyncio.run(_bench(bot))}
    finally:
        bot.close()
    results["python"] = platform.python_version()
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
