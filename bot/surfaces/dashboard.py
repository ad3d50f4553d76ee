"""``GET /dashboard``: the manager's figures and the desk at a glance, in a browser (and as JSON for scripts).

One read-only page. First the manager's view for a period (``?days=7|30|90``,
default 30, or ``?month=2026-11``): deflection per week, volumes, what to write
next, resets and unlocks, tickets, announcements and the estimated savings, each
chart beside its table (``bot.reports``). Then the technicians' live queue: open
tickets (urgent first), requests waiting in the outbox while the ticket system
is down, approvals waiting, current outages, the latest announcements and the
questions the knowledge base could not answer in the last 30 days (grouped as
``helpdesk kb gaps`` does). ``GET /dashboard/report?month=2026-11&format=html|csv``
is the printable monthly report (``helpdesk report``).

It is served only when ``HELPDESK_DASHBOARD_TOKEN`` is set (404 otherwise),
and asks for that token as the password of HTTP Basic authentication (any
user name), so a browser prompts for it and it never sits in a URL, or as
``Authorization: Bearer <token>``. After ``MAX_FAILURES`` wrong tokens from one
address within ``FAILURE_WINDOW`` that address gets 429 until the window has
passed (``LoginThrottle``). Every value is HTML-escaped. A ticket
system that does not answer is shown as such; the rest of the page still comes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from bot.core.errors import IntegrationError
from bot.reports.export import to_csv
from bot.reports.page import STYLE, report_page, sections
from bot.services.figures import Period, figures_for, month_of
from bot.store import Acknowledgement

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.integrations.tickets import TicketView

__all__ = ["DeskStatus", "LoginThrottle", "dashboard_handler", "desk_status", "open_tickets", "period_of",
           "render_html", "report_title"]

log = logging.getLogger(__name__)
MAX_TICKETS = 100
MAX_ANNOUNCEMENTS = 10
MAX_GAPS = 10
GAPS_WINDOW = timedelta(days=30)
PERIOD_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
URGENT_FIRST = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

MAX_FAILURES = 5
FAILURE_WINDOW = 300.0  # seconds
MAX_TRACKED = 10_000  # addresses remembered at once; the oldest are forgotten first


class LoginThrottle:
    """Counts wrong dashboard tokens per client address; too many within the window locks that address out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, list[float]] = {}

    def wait(self, address: str) -> float:
        """Seconds ``address`` must wait before trying again (0 when it may try now)."""
        recent = self._recent(address)
        if recent:
            self._failures[address] = recent
        if len(recent) < MAX_FAILURES:
            return 0.0
        return max(recent[-MAX_FAILURES] + FAILURE_WINDOW - self.clock(), 1.0)

    def failed(self, address: str) -> None:
        """Record one wrong token from ``address``."""
        recent = self._recent(address)
        recent.append(self.clock())
        self._failures[address] = recent
        if len(self._failures) > MAX_TRACKED:
            del self._failures[next(iter(self._failures))]

    def _recent(self, address: str) -> list[float]:
        """The failures of ``address`` still inside the window (taken out of the table; ``failed`` puts them back
        last, so the least recently failing address is the one forgotten first)."""
        since = self.clock() - FAILURE_WINDOW
        return [moment for moment in self._failures.pop(address, []) if moment > since]


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


async def open_tickets(bot: Bot) -> tuple[list[TicketView] | None, str | None]:
    """The open tickets, urgent first (None and the reason when the ticket system does not answer)."""
    try:
        tickets = await bot.tickets.list_open()
    except IntegrationError as exc:
        return None, str(exc)
    return sorted(tickets, key=lambda t: URGENT_FIRST.get(t.urgency, 2)), None


async def desk_status(bot: Bot, tickets: list[TicketView] | None = None, error: str | None = None) -> DeskStatus:
    """Gather the desk's state from the bot's services (``tickets``: from ``open_tickets``, when known)."""
    local = bot.settings.local_time
    status = DeskStatus(generated_at=local(bot.clock()),
                        nlu=f"{bot.nlu.name} ({'ready' if bot.nlu_ready else 'not ready'})",
                        channels=sorted(bot.channels))
    if tickets is None and error is None:
        tickets, error = await open_tickets(bot)
    status.tickets_error = error
    status.tickets = [{"key": t.key, "summary": t.summary, "status": t.status, "reporter": t.reporter,
                       "assignee": t.assignee or "", "urgency": t.urgency} for t in (tickets or [])[:MAX_TICKETS]]
    health = bot.ticket_outbox.health
    if not health.up:
        since = f" since {local(health.since)}" if health.since else ""
        status.ticket_system_down = f"{bot.ticket_outbox.name} is down{since}: {health.detail}"
    status.outbox_waiting = await bot.ticket_outbox.waiting()
    status.approvals = [{"id": str(a.id), "summary": a.summary, "requester": a.requester,
                         "expires": local(a.expires_at)} for a in await bot.approvals.pending()]
    status.outages = [{"title": n.title, "since": local(n.created_at),
                       "systems": ", ".join(n.systems)} for n in await bot.notices.active()]
    latest = await bot.announcements.list(limit=MAX_ANNOUNCEMENTS)
    counts = await _acknowledgements(bot, [row.id for row in latest if row.ack_required and row.id is not None])
    for row in latest:
        acknowledged = str(counts.get(row.id or 0, 0)) if row.ack_required else ""
        status.announcements.append({"id": str(row.id), "title": row.title, "status": row.status,
                                     "sent": f"{row.sent}/{row.total}", "acknowledged": acknowledged})
    gaps = await asyncio.to_thread(bot.questions.gaps, MAX_GAPS, bot.clock() - GAPS_WINDOW)
    status.kb_gaps = [{"times_asked": str(gap.count), "for_example": gap.examples[0] if gap.examples else "",
                       "last_asked": local(gap.last_asked) if gap.last_asked else ""} for gap in gaps]
    return status


async def _acknowledgements(bot: Bot, ids: list[int]) -> dict[int, int]:
    """How many people acknowledged each announcement, counted in one query."""
    query = (select(Acknowledgement.announcement_id, func.count()).where(col(Acknowledgement.announcement_id).in_(ids))
             .group_by(col(Acknowledgement.announcement_id)))
    return dict(await bot.db.run(lambda session: list(session.exec(query).all()))) if ids else {}


def _table(title: str, rows: list[dict[str, str]], empty: str) -> str:
    if not rows:
        return f"<h2>{escape(title)}</h2><p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(name.replace('_', ' '))}</th>" for name in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row.values()) + "</tr>"
                   for row in rows)
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def period_of(bot: Bot, query: Mapping[str, str]) -> Period:
    """The period a request asks for: ``month=2026-11`` or ``days=7|30|90`` (30 by default).

    Raises ValueError with a message to show for anything else.
    """
    if query.get("month"):
        return Period.of_month(query["month"], bot.settings.timezone)
    days = query.get("days") or str(DEFAULT_DAYS)
    if not days.isdigit() or int(days) not in PERIOD_DAYS:
        raise ValueError(f"days must be one of {', '.join(map(str, PERIOD_DAYS))}")
    return Period.last_days(int(days), bot.clock())


def report_title(period: Period) -> str:
    """The heading of the monthly report."""
    return f"IT helpdesk: {period.label}"


def _navigation(bot: Bot, period: Period) -> str:
    this_month = month_of(bot.clock(), bot.settings.timezone)
    links = [(f"?days={days}", f"{days} days") for days in PERIOD_DAYS]
    links.append((f"?month={this_month}", "this month"))
    month = period.month or this_month
    links.append((f"/dashboard/report?month={month}", "monthly report (print)"))
    links.append((f"/dashboard/report?month={month}&format=csv", "monthly report (CSV)"))
    nav = "<nav>" + "".join(f"<a href=\"{escape(href)}\">{escape(text)}</a>" for href, text in links) + "</nav>"
    local = bot.settings.local_time
    return (f"{nav}<h2>The manager's view: {escape(period.label)}</h2>"
            f"<p>Conversations begun from {escape(local(period.start))} to {escape(local(period.end))}.</p>")


def render_html(status: DeskStatus, manager: str = "") -> str:
    """The page: the manager's sections (``manager``, already HTML), then one table per part of the desk,
    every value escaped."""
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
        f"<meta http-equiv=refresh content=60><style>{STYLE}</style></head><body><h1>Helpdesk dashboard</h1>"
        f"<p>{escape(status.generated_at)} · NLU: {escape(status.nlu)} · "
        f"channels: {escape(', '.join(status.channels) or 'none')}</p>"
        + manager + "<h2>The desk now</h2>" + "".join(parts) + "</body></html>"
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


def dashboard_handler(bot: Bot, as_json: bool = False, report: bool = False, throttle: LoginThrottle | None = None,
                      ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of ``GET /dashboard`` (``/dashboard.json`` with ``as_json``, the monthly
    ``/dashboard/report`` with ``report``) for ``bot``.

    Handlers that share ``throttle`` share the count of wrong tokens.
    """
    throttle = throttle or LoginThrottle()

    async def dashboard(request: web.Request) -> web.StreamResponse:
        token = bot.settings.dashboard_token
        if token is None:
            return web.json_response({"error": "the dashboard is not configured"}, status=404)
        address = request.remote or ""
        wait = throttle.wait(address)
        if wait:
            return web.json_response({"error": "too many wrong tokens; try again later"}, status=429,
                                     headers={"Retry-After": str(int(wait))})
        if not hmac.compare_digest(_token_given(request).encode(), token.get_secret_value().encode()):
            throttle.failed(address)
            log.warning("dashboard: wrong token from %s", address)
            return web.Response(status=401, text="the dashboard token is needed",
                                headers={"WWW-Authenticate": 'Basic realm="helpdesk dashboard"'})
        try:
            period = period_of(bot, request.query)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if report:
            return await _report(bot, period, request.query.get("format", "html"))
        tickets, error = await open_tickets(bot)
        status, figures = await asyncio.gather(desk_status(bot, tickets, error), figures_for(bot, period, tickets))
        if as_json:
            body: dict[str, Any] = {**asdict(status), **asdict(figures)}
            return web.json_response(body)
        page = render_html(status, _navigation(bot, period) + sections(figures))
        return web.Response(text=page, content_type="text/html", headers=_PAGE_HEADERS)

    return dashboard


_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}


async def _report(bot: Bot, period: Period, form: str) -> web.Response:
    """The monthly report as a printable page or a CSV download."""
    tickets, _ = await open_tickets(bot)
    figures = await figures_for(bot, period, tickets)
    if form == "csv":
        name = f"helpdesk-{period.month or 'period'}.csv"
        return web.Response(text=to_csv(figures), content_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}"', **_PAGE_HEADERS})
    if form != "html":
        return web.json_response({"error": "format must be html or csv"}, status=400)
    return web.Response(text=report_page(figures, report_title(period)), content_type="text/html",
                        headers=_PAGE_HEADERS)
