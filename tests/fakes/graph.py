"""A fake Microsoft identity platform + Graph on loopback, speaking the real wire format.

It serves ``POST /{tenant}/oauth2/v2.0/token`` (client credentials),
``GET /v1.0/users?$filter=...&$select=...`` (the ``eq`` / ``or`` subset of
OData with ``''`` escapes), ``GET /v1.0/users/{id}/transitiveMemberOf`` and
``PATCH /v1.0/users/{id}`` with a ``passwordProfile``. Errors use Graph's
``{"error": {"code", "message"}}`` body. It runs in its own thread and loop.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "helpdesk-app"
CLIENT_SECRET = "fake-client-secret"
_LITERAL = r"'((?:[^']|'')*)'"
_CLAUSE = re.compile(rf"^\s*(mail|userPrincipalName)\s+eq\s+{_LITERAL}\s*$")


@dataclass
class FakeUser:
    """A user in the fake tenant."""

    id: str
    upn: str
    mail: str
    display_name: str
    password: str
    enabled: bool = True
    other_mails: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    force_change: bool = False
    last_change: str = "2026-10-01T08:00:00Z"


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _complex(password: str) -> bool:
    kinds = [any(c.islower() for c in password), any(c.isupper() for c in password),
             any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
    return len(password) >= 8 and sum(kinds) >= 3


class FakeGraph:
    """The fake tenant and its HTTP server. ``url`` is the authority; ``graph_url`` the Graph base."""

    def __init__(self) -> None:
        self.users: dict[str, FakeUser] = {}
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.down = False
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # State ---------------------------------------------------------------------

    def add_user(self, name: str, *, groups: list[str] | None = None, other: str | None = None,
                 enabled: bool = True, password: str = "Start-Passw0rd-x") -> FakeUser:
        """Add ``name@city.example``."""
        user = FakeUser(id=str(uuid.uuid4()), upn=f"{name}@city.example", mail=f"{name}@city.example",
                        display_name=name.capitalize(), password=password, enabled=enabled,
                        other_mails=[other] if other else [], groups=list(groups or []))
        self.users[user.id] = user
        return user

    def sign_in(self, email: str, password: str) -> str:
        """What an interactive sign-in would say: ``ok``, ``must_change``, ``disabled`` or ``invalid``."""
        user = next((u for u in self.users.values() if u.mail == email), None)
        if user is None or user.password != password:
            return "invalid"
        if not user.enabled:
            return "disabled"
        return "must_change" if user.force_change else "ok"

    # Server --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The authority URL (``HELPDESK_GRAPH_AUTHORITY_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph_url(self) -> str:
        """The Graph base URL (``HELPDESK_GRAPH_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1.0"

    @property
    def settings(self) -> dict[str, object]:
        """The ``HELPDESK_GRAPH_*`` settings that point the bot here."""
        return {"directory": "graph", "graph_tenant_id": TENANT, "graph_client_id": CLIENT_ID,
                "graph_client_secret": CLIENT_SECRET, "graph_authority_url": self.url,
                "graph_base_url": self.graph_url}

    def start(self) -> None:
        """Serve on a free loopback port from a background thread."""
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
            app.router.add_get("/v1.0/users", self._list_users)
            app.router.add_get("/v1.0/users/{id}/transitiveMemberOf", self._member_of)
            app.router.add_patch("/v1.0/users/{id}", self._patch_user)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # Handlers ------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header.removeprefix("Bearer ") in self.tokens

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", "token"))
        if self.down:
            return _error(503, "temporarily_unavailable", "down")
        form = await request.post()
        if request.match_info["tenant"] != TENANT:
            return web.json_response({"error": "invalid_tenant"}, status=400)
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or form.get("scope") != "https://graph.microsoft.com/.default"):
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215"}, status=401)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    async def _list_users(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "users"))
        if self.down:
            return _error(503, "serviceNotAvailable", "down")
        if not self._authorised(request):
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        wanted: list[tuple[str, str]] = []
        for clause in request.query.get("$filter", "").split(" or "):
            match = _CLAUSE.match(clause)
            if not match:
                return _error(400, "BadRequest", "Invalid filter clause")
            wanted.append((match.group(1), match.group(2).replace("''", "'")))
        found = [u for u in self.users.values()
                 if any((u.mail if name == "mail" else u.upn).lower() == value.lower() for name, value in wanted)]
        return web.json_response({"@odata.context": f"{self.graph_url}/$metadata#users",
                                  "value": [self._public(u) for u in found]})

    async def _member_of(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "memberOf"))
        if not self._authorised(request):
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        user = self.users.get(request.match_info["id"])
        if user is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        groups = [{"@odata.type": "#microsoft.graph.directoryRole" if g.endswith("Administrator")
                   else "#microsoft.graph.group", "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, g)), "displayName": g}
                  for g in user.groups]
        return web.json_response({"value": groups})

    async def _patch_user(self, request: web.Request) -> web.Response:
        self.requests.append(("PATCH", "user"))
        if self.down:
            return _error(503, "serviceNotAvailable", "down")
        if not self._authorised(request):
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        user = self.users.get(request.match_info["id"])
        if user is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        body: dict[str, Any] = await request.json()
        profile = body.get("passwordProfile") or {}
        password = str(profile.get("password", ""))
        if not _complex(password):
            return _error(400, "Request_BadRequest", "The specified password does not comply with password "
                          "complexity requirements. Please provide a different password.")
        user.password = password
        user.force_change = bool(profile.get("forceChangePasswordNextSignIn"))
        user.last_change = "2026-11-23T09:00:00Z"
        return web.Response(status=204)

    def _public(self, user: FakeUser) -> dict[str, Any]:
        return {"id": user.id, "displayName": user.display_name, "mail": user.mail,
                "userPrincipalName": user.upn, "mailNickname": user.upn.split("@")[0],
                "accountEnabled": user.enabled, "otherMails": user.other_mails,
                "lastPasswordChangeDateTime": user.last_change}
