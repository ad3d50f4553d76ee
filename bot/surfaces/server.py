"""The one aiohttp server: ``/healthz``, ``/metrics``, the dashboard and the Jira webhook.

Channels add their own routes. The access log leaves query strings out (a URL
may carry a secret, such as the Jira webhook's ``?secret=``). ``/metrics``
answers a scraper that sends ``Authorization: Bearer <HELPDESK_METRICS_TOKEN>``,
or, with no token set, only clients on the same machine (loopback).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.app import Bot
from bot.integrations.tickets.jira_webhook import jira_webhook_handler
from bot.surfaces.dashboard import LoginThrottle, dashboard_handler

__all__ = ["BOT_KEY", "AccessLog", "build_web_app"]

BOT_KEY = web.AppKey("bot", Bot)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and the NLU is loaded, else 503 with what is wrong.

    ``tickets`` tells whether the ticket backend answers; a backend that is down does not make
    the bot unhealthy (requests wait in the outbox), it is only reported, with why and since when.
    """
    bot = request.app[BOT_KEY]
    database = await asyncio.to_thread(bot.db.ping)
    nlu = bot.nlu_ready
    health = bot.ticket_outbox.health
    tickets = {"backend": bot.ticket_outbox.name, "up": health.up, "detail": health.detail,
               "since": health.since.isoformat() if health.since else None}
    body = {"status": "ok" if database and nlu else "unhealthy", "database": database, "nlu": nlu,
            "tickets": tickets}
    return web.json_response(body, status=200 if database and nlu else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics in the text format, for the scraper that has the token (or a local one when none is set)."""
    token = request.app[BOT_KEY].settings.metrics_token
    if token is None:
        if not _loopback(request.remote):
            return web.json_response({"error": "set HELPDESK_METRICS_TOKEN to scrape from another machine"},
                                     status=403)
    else:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.get_secret_value().encode()):
            return web.json_response({"error": "the metrics token is needed"}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


class AccessLog(AbstractAccessLogger):
    """One line per request, like aiohttp's, with the query string left out (a URL may carry a secret)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write the line: who, the method and path (``?…`` for a query), status, size and seconds."""
        query = "?…" if request.query_string else ""
        self.logger.info('%s "%s %s%s" %d %d %.3fs', request.remote, request.method, request.path, query,
                         response.status, response.body_length, time)


def build_web_app(bot: Bot) -> web.Application:
    """The aiohttp application with the bot's routes."""
    app = web.Application(client_max_size=1024 * 1024)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    throttle = LoginThrottle()
    app.router.add_get("/dashboard", dashboard_handler(bot, throttle=throttle))
    app.router.add_get("/dashboard.json", dashboard_handler(bot, as_json=True, throttle=throttle))
    app.router.add_get("/dashboard/report", dashboard_handler(bot, report=True, throttle=throttle))
    app.router.add_post("/jira/webhook", jira_webhook_handler(bot.settings.jira_webhook_secret, bot.tickets.kind,
                                                              bot.tickets_sync.handle_webhook))
    return app
