"""``GET /dashboard``: the desk at a glance for technicians, in a browser (and as JSON for scripts).

One read-only page: open tickets, requests waiting in the outbox while the
ticket system is down, approvals waiting for a technician, current outages,
the latest announcements with their delivery and acknowledgement counts, and
the questions the knowledge base could not answer in the last 30 days
(grouped as ``helpdesk kb gaps`` does).

It is served only when ``HELPDESK_DASHBOARD_TOKEN`` is set (404 otherwise),
and asks for that token as the password of HTTP Basic authentication (any
user name), so a browser prompts for it and it never sits in a URL, or as
``Authorization: Bearer <token>``. Every value is HTML-escaped. A ticket
system that does not answer is shown as such; the rest of the page still comes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.errors import IntegrationError

if TYPE_CHECKING:
    from bot.app import Bot

__all__ = ["DeskStatus", "dashboard_handler", "desk_status", "render_html"]

log = logging.getLogger(__name__)
MAX_TICKETS = 100
MAX_ANNOUNCEMENTS = 10
MAX_GAPS = 10
GAPS_WINDOW = timedelta(days=30)


@dataclass
class DeskStatus:
    """What the dashboard shows, as plain values."""

    generated_at: str
    nlu: str
    channels: list[str]
    tickets: list[dict[str, str]] = field(default_factory=list)
    tickets_error: str | None = None
    ticket_system_down: str | None = None
    outbox_waiting: int = 0
    approvals: list[dict[str, str]] = field(default_factory=list)
    outages: list[dict[str, str]] = field(default_factory=list)
    announcements: list[dict[str, str]] = field(default_factory=list)
    kb_gaps: list[dict[str, str]] = field(default_factory=list)


async def desk_status(bot: Bot) -> DeskStatus:
    """Gather the desk's state from the bot's services."""
    local = bot.settings.local_time
    status = DeskStatus(generated_at=local(bot.clock()),
                        nlu=f"{bot.nlu.name} ({'ready' if bot.nlu_ready else 'not ready'})",
                        channels=sorted(bot.channels))
    try:
        tickets = await bot.tickets.list_open()
    except IntegrationError as exc:
        status.tickets_error = str(exc)
    else:
        status.tickets = [{"key": t.key, "summary": t.summary, "status": t.status, "reporter": t.reporter,
                           "assignee": t.assignee or "", "urgency": t.urgency} for t in tickets[:MAX_TICKETS]]
    health = bot.ticket_outbox.health
    if not health.up:
        since = f" since {local(health.since)}" if health.since else ""
        status.ticket_system_down = f"{bot.ticket_outbox.name} is down{since}: {health.detail}"
    status.outbox_waiting = await bot.ticket_outbox.waiting()
    status.approvals = [{"id": str(a.id), "summary": a.summary, "requester": a.requester,
                         "expires": local(a.expires_at)} for a in await bot.approvals.pending()]
    status.outages = [{"title": n.title, "since": local(n.created_at),
                       "systems": ", ".join(n.systems)} for n in await bot.notices.active()]
    for row in await bot.announcements.list(limit=MAX_ANNOUNCEMENTS):
        acknowledged = ""
        if row.ack_required and row.id is not None:
            report = await bot.announcements.report(row.id)
            acknowledged = str(len(report.acknowledged)) if report else ""
        status.announcements.append({"id": str(row.id), "title": row.title, "status": row.status,
                                     "sent": f"{row.sent}/{row.total}", "acknowledged": acknowledged})
    gaps = await asyncio.to_thread(bot.questions.gaps, MAX_GAPS, bot.clock() - GAPS_WINDOW)
    status.kb_gaps = [{"times_asked": str(gap.count), "for_example": gap.examples[0] if gap.examples else "",
                       "last_asked": local(gap.last_asked) if gap.last_asked else ""} for gap in gaps]
    return status


def _table(title: str, rows: list[dict[str, str]], empty: str) -> str:
    if not rows:
        return f"<h2>{escape(title)}</h2><p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(name.replace('_', ' '))}</th>" for name in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row.values()) + "</tr>"
                   for row in rows)
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def render_html(status: DeskStatus) -> str:
    """The page: one table per part, every value escaped."""
    if status.tickets_error is not None:
        tickets = f"<h2>Open tickets</h2><p class=error>{escape(status.tickets_error)}</p>"
    else:
        tickets = _table("Open tickets", status.tickets, "No open tickets.")
    waiting = (f"<p class=error>{status.outbox_waiting} request(s) wait in the outbox for the ticket system.</p>"
               if status.outbox_waiting else "")
    down = f"<p class=error>{escape(status.ticket_system_down)}</p>" if status.ticket_system_down else ""
    parts = [
        down, tickets, waiting,
        _table("Approvals waiting", status.approvals, "Nothing waits for approval."),
        _table("Current outages", status.outages, "No outage notices."),
        _table("Latest announcements", status.announcements, "No announcements yet."),
        _table("Questions the knowledge base could not answer (30 days)", status.kb_gaps, "None."),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Helpdesk dashboard</title>"
        "<meta http-equiv=refresh content=60><style>body{font-family:sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        ".error{color:#a00}</style></head><body><h1>Helpdesk dashboard</h1>"
        f"<p>{escape(status.generated_at)} · NLU: {escape(status.nlu)} · "
        f"channels: {escape(', '.join(status.channels) or 'none')}</p>"
        + "".join(parts) + "</body></html>"
    )


def _token_given(request: web.Request) -> str:
    """The token in the request: a Bearer token, or the password of Basic authentication."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def dashboard_handler(bot: Bot, as_json: bool = False) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of ``GET /dashboard`` (or ``/dashboard.json`` with ``as_json``) for ``bot``."""

    async def dashboard(request: web.Request) -> web.StreamResponse:
        token = bot.settings.dashboard_token
        if token is None:
            return web.json_response({"error": "the dashboard is not configured"}, status=404)
        if not hmac.compare_digest(_token_given(request).encode(), token.get_secret_value().encode()):
            return web.Response(status=401, text="the dashboard token is needed",
                                headers={"WWW-Authenticate": 'Basic realm="helpdesk dashboard"'})
        status = await desk_status(bot)
        if as_json:
            body: dict[str, Any] = asdict(status)
            return web.json_response(body)
        return web.Response(text=render_html(status), content_type="text/html",
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    return dashboard
