"""The one aiohttp server: ``/healthz``, ``/metrics``, the dashboard and the Jira webhook.

Channels add their own routes.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.app import Bot
from bot.dashboard import dashboard_handler
from bot.integrations.jira_webhook import jira_webhook_handler

__all__ = ["BOT_KEY", "build_web_app"]

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


async def metrics(_: web.Request) -> web.Response:
    """Prometheus metrics in the text format."""
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_web_app(bot: Bot) -> web.Application:
    """The aiohttp application with the bot's routes."""
    app = web.Application(client_max_size=1024 * 1024)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/dashboard", dashboard_handler(bot))
    app.router.add_get("/dashboard.json", dashboard_handler(bot, as_json=True))
    app.router.add_post("/jira/webhook", jira_webhook_handler(bot))
    return app
