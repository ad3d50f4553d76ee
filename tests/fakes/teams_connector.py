"""A fake Bot Connector service (the Teams ``serviceUrl``) on 127.0.0.1.

It speaks the Bot Connector REST API v3 that the Agents SDK calls:

- ``POST /v3/conversations`` creates a conversation (a personal chat) and returns its id;
- ``POST /v3/conversations/{id}/activities`` sends, ``POST .../activities/{replyToId}`` replies
  in a thread, ``PUT .../activities/{activityId}`` updates a message; each returns ``{"id"}``;
- ``GET /v3/conversations/{id}/members`` and ``.../members/{memberId}`` serve the roster.

Every request is recorded as a ``Call``. ``fail(status, times)`` makes the next requests
answer with that status (a 429 carries ``Retry-After``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on a free port of 127.0.0.1; the runner (to clean up) and the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@dataclass
class Call:
    """One request the bot made to the connector."""

    method: str
    path: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any] | None
    authorization: str | None
    response_id: str | None = None


@dataclass
class Member:
    """A Teams user as the roster API returns them."""

    id: str
    aad_object_id: str
    email: str
    name: str = ""

    def wire(self) -> dict[str, Any]:
        """The member in the connector's JSON (a TeamsChannelAccount)."""
        return {"id": self.id, "aadObjectId": self.aad_object_id, "email": self.email,
                "userPrincipalName": self.email, "name": self.name or self.email.split("@")[0]}


@dataclass
class FakeConnector:
    """The fake service. ``url`` is the ``serviceUrl`` to put in posted activities."""

    members: dict[str, list[Member]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _failures: list[tuple[int, str]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> FakeConnector:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members", self._members)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self._runner, port = await serve_locally(app)
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, status: int, times: int = 1, retry_after: str = "0") -> None:
        """Answer the next ``times`` requests with ``status``."""
        self._failures.extend([(status, retry_after)] * times)

    def add_member(self, conversation: str, member: Member) -> None:
        """Put ``member`` on the roster of ``conversation``."""
        self.members.setdefault(conversation, []).append(member)

    def posts(self) -> list[Call]:
        """The successful sends, replies, updates and conversation creations, in order."""
        return [c for c in self.calls if c.method in ("POST", "PUT") and c.response_id is not None]

    # Handlers -------------------------------------------------------------

    def _record(self, request: web.Request, body: dict[str, Any] | None) -> Call | web.Response:
        call = Call(request.method, request.path, request.match_info.get("conversation", ""),
                    request.match_info.get("activity"), body, request.headers.get("Authorization"))
        self.calls.append(call)
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {"Retry-After": retry_after} if status == 429 else {}
            return web.json_response({"error": {"code": "Throttled" if status == 429 else "ServiceError",
                                                "message": "fake failure"}}, status=status, headers=headers)
        return call

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = self._record(request, body)
        if isinstance(call, web.Response):
            return call
        member = (body.get("members") or [{}])[0]
        conversation = f"a:personal-{member.get('aadObjectId') or member.get('id')}"
        call.response_id = conversation
        return web.json_response({"id": conversation, "serviceUrl": self.url}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        call = self._record(request, await request.json())
        if isinstance(call, web.Response):
            return call
        call.response_id = f"m{next(self._ids)}"
        return web.json_response({"id": call.response_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        call = self._record(request, await request.json())
        if isinstance(call, web.Response):
            return call
        call.response_id = request.match_info["activity"]
        return web.json_response({"id": call.response_id})

    def _roster(self, conversation: str) -> list[Member]:
        return self.members.get(conversation.split(";")[0], [])

    async def _members(self, request: web.Request) -> web.Response:
        call = self._record(request, None)
        if isinstance(call, web.Response):
            return call
        return web.json_response([m.wire() for m in self._roster(request.match_info["conversation"])])

    async def _member(self, request: web.Request) -> web.Response:
        call = self._record(request, None)
        if isinstance(call, web.Response):
            return call
        wanted = request.match_info["member"]
        for member in self._roster(request.match_info["conversation"]):
            if wanted in (member.id, member.aad_object_id):
                return web.json_response(member.wire())
        return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": wanted}},
                                 status=404)
