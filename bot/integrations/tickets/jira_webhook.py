"""``POST /jira/webhook``: Jira tells the bot that an issue changed; the employee is told.

The shared secret (``HELPDESK_JIRA_WEBHOOK_SECRET``) comes as Jira's
``X-Hub-Signature: sha256=<HMAC of the body>`` (webhooks registered with a
secret), or, where Jira cannot sign, as ``Authorization: Bearer <secret>`` (an
automation rule's "Send web request" can add it) or, for compatibility, as
``?secret=...`` in the URL (kept out of the access log, see ``bot.surfaces.server``).
Each is compared in constant time. A bad secret is 401, a body that is not a
JSON object with an issue key is 400, and a Jira that cannot be read back just
then is 503, so that Jira delivers the event again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.core.errors import IntegrationError

__all__ = ["WebhookHandler", "jira_webhook_handler", "signature"]

log = logging.getLogger(__name__)
MAX_BODY = 512 * 1024

WebhookHandler = Callable[[dict[str, Any]], Awaitable[bool]]
"""What an event goes to: re-read the issue it names and tell its reporter (True when told); ValueError if malformed."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _authentic(secret: str, request: web.Request, body: bytes) -> bool:
    sent = request.headers.get("X-Hub-Signature", "")
    if sent:
        return hmac.compare_digest(sent.encode(), signature(secret, body).encode())
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    given = token.strip() if scheme.lower() == "bearer" else request.query.get("secret", "")
    return hmac.compare_digest(given.encode(), secret.encode())


def jira_webhook_handler(secret: SecretStr | None, backend_kind: str,
                         handle: WebhookHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of ``POST /jira/webhook``: events signed with ``secret`` go to ``handle``.

    Without a secret, or with the built-in queue (``backend_kind``), the route answers 404.
    """

    async def jira_webhook(request: web.Request) -> web.Response:
        if secret is None or backend_kind == "builtin":
            return web.json_response({"error": "the Jira webhook is not configured"}, status=404)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        if not _authentic(secret.get_secret_value(), request, body):
            log.warning("Jira webhook with a bad secret from %s", request.remote)
            return web.json_response({"error": "bad secret"}, status=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "the body is not a JSON object"}, status=400)
        try:
            told = await handle(payload)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except IntegrationError as exc:
            log.warning("Jira webhook: could not read the issue back: %s", exc)
            return web.json_response({"error": "Jira could not be read just now; send it again"}, status=503)
        return web.json_response({"ok": True, "notified": told})

    return jira_webhook
