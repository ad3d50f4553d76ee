"""A fake Slack on 127.0.0.1: the Web API (checked against Slack's published spec) and a Socket Mode websocket.

It records every Web API call with its token and arguments, answers the way
Slack does (``ok``, ``error``, ``response_metadata``), and can be told to
answer 429 (with ``Retry-After``) or 5xx. Calls are checked against
``tests/fakes/specs/slack/slack_web_openapi_v2.json``: a method the spec does not
have, or a call without one of its required arguments, is refused with
``invalid_arguments``/``unknown_method`` and listed in ``violations``; every
successful answer is validated against the method's response schema, and a
mismatch is listed there too. A test asserts ``violations == []``.

The spec's quirks (see the specs README) are handled here: its ``token``
parameters are dropped (slack_sdk sends ``Authorization: Bearer``), and
arguments are read from the query string, a form body or a JSON body alike.
Methods added after the spec was frozen (``apps.connections.open``, the
``assistant.threads.*`` of the agent panel) and newer message fields (``metadata``,
2022) come from ``tests/fakes/specs/slack/newer_methods.json``, written from Slack's
method reference: their arguments are checked against its JSON schemas, and
the fields are added to the in-memory copy of the spec's message schema. Its
``conversations.history`` schema wants at least one message, which real Slack
does not (an empty channel answers ``[]``): that ``minItems`` is dropped too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp import WSMsgType, web

from tests.fakes.openapi_check import SPECS_DIR

__all__ = ["BOT_TOKEN", "APP_TOKEN", "Call", "FakeSlack", "SlackUser", "spec_path"]

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
BOT_USER, BOT_ID, TEAM = "U0HELPBOT1", "B0HELPBOT1", "T0CITYHALL"
NEWER_PATH = SPECS_DIR / "slack" / "newer_methods.json"


def spec_path() -> Path:
    """Slack's Web API spec, vendored in ``tests/fakes/specs/slack``."""
    return SPECS_DIR / "slack" / "slack_web_openapi_v2.json"


def newer_methods() -> dict[str, Any]:
    """The methods newer than the spec: method -> ``{"doc", "token", "scopes", "arguments"}``."""
    return dict(json.loads(NEWER_PATH.read_text())["methods"])


@dataclass(frozen=True)
class SlackUser:
    """A member of the fake workspace."""

    id: str
    email: str
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False

    @property
    def dm(self) -> str:
        """Their direct-message channel with the bot."""
        return "D" + self.id[1:].ljust(9, "0")


@dataclass
class Call:
    """One Web API call as the fake received it."""

    method: str
    token: str
    args: dict[str, Any]
    status: int = 200
    error: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class _Spec:
    """The methods, their required arguments and response schemas, from the published spec."""

    def __init__(self, path: Path) -> None:
        spec = json.loads(path.read_text())
        newer = json.loads(NEWER_PATH.read_text())
        spec["definitions"]["objs_message"]["properties"].update(
            {name: field["schema"] for name, field in newer["message_fields"].items()})
        self.newer = {method: jsonschema.Draft7Validator(entry["arguments"])
                      for method, entry in newer["methods"].items()}
        self.app_token_methods = {method for method, entry in newer["methods"].items() if entry["token"] == "app"}
        history = spec["paths"]["/conversations.history"]["get"]["responses"]["200"]["schema"]
        history["properties"]["messages"].pop("minItems", None)
        self.definitions = spec["definitions"]
        self.required: dict[str, set[str]] = {}
        self.responses: dict[str, dict[str, Any]] = {}
        for route, verbs in spec["paths"].items():
            method = route.lstrip("/")
            for operation in verbs.values():
                params = [p for p in operation.get("parameters", []) if p["name"] != "token"]
                self.required[method] = {p["name"] for p in params if p.get("required")}
                self.responses[method] = operation["responses"]["200"]["schema"]
        self._validators: dict[str, jsonschema.Draft4Validator] = {}

    def argument_problems(self, method: str, args: dict[str, Any]) -> list[str] | None:
        """What is wrong with the arguments of a call (None: no such method)."""
        if method in self.newer:
            decoded = {name: _json_arg(value) if name in ("prompts", "loading_messages") else value
                       for name, value in args.items()}
            return [f"{method}: {e.message}" for e in self.newer[method].iter_errors(decoded)]
        if method not in self.required:
            return None
        missing = self.required[method] - set(args)
        return [f"{method}: missing required {sorted(missing)}"] if missing else []

    def problems(self, method: str, body: dict[str, Any]) -> list[str]:
        """What is wrong with a success answer to ``method`` by the spec's response schema."""
        if method not in self.responses:
            return []
        if method not in self._validators:
            schema = {**self.responses[method], "definitions": self.definitions}
            self._validators[method] = jsonschema.Draft4Validator(schema)
        return [f"{method} response: {e.message}" for e in self._validators[method].iter_errors(body)]


class FakeSlack:
    """The fake Slack server. ``await start()``, use ``api_url``, ``await stop()``."""

    def __init__(self, users: list[SlackUser], *, groups: dict[str, list[str]] | None = None) -> None:
        self.spec = _Spec(spec_path())
        self.users = {u.id: u for u in users}
        self.groups = {handle: list(ids) for handle, ids in (groups or {}).items()}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.ephemeral: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.home: dict[str, dict[str, Any]] = {}
        self.threads: dict[tuple[str, str], dict[str, Any]] = {}  # agent panel (channel, thread_ts) -> state
        self.page_size = 200
        self._failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._refusals: dict[str, list[str]] = {}
        self._held: dict[str, int] = {}  # method -> calls still answered before the rest are held
        self.release = asyncio.Event()
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # Server ---------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close the websockets and the server (held calls are answered first)."""
        self.release.set()
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The Web API base URL (``SLACK_API_URL``)."""
        return f"http://127.0.0.1:{self.port}/api/"

    # Test controls ----------------------------------------------------------------

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (``*`` for any) with HTTP ``status``."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._failures.setdefault(method, []).extend([(status, headers)] * times)

    def refuse(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 200 and ``{"ok": false, "error": error}``."""
        self._refusals.setdefault(method, []).extend([error] * times)

    def hold(self, method: str, *, after: int) -> None:
        """Carry out every call of ``method`` after the next ``after``, but answer none until ``release`` is set.

        This stands for a sender that dies between Slack taking a message and the sender hearing so.
        """
        self._held[method] = after

    def calls_to(self, method: str) -> list[Call]:
        """The successful calls of ``method``, in order."""
        return [c for c in self.calls if c.method == method and c.status == 200 and c.error is None]

    def user_by_email(self, email: str) -> SlackUser:
        """The workspace member with this email."""
        return next(u for u in self.users.values() if u.email == email)

    def user_by_dm(self, channel: str) -> SlackUser | None:
        """The member whose DM with the bot is ``channel``."""
        return next((u for u in self.users.values() if u.dm == channel), None)

    # Web API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token, args = await self._read(request)
        call = Call(method, token, args)
        self.calls.append(call)
        queued = self._failures.get(method) or self._failures.get("*")
        if queued:
            status, headers = queued.pop(0)
            call.status = status
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        refusals = self._refusals.get(method)
        body = {"ok": False, "error": refusals.pop(0)} if refusals else self._answer(method, token, args)
        call.response = body
        if body.get("ok"):
            self.violations.extend(self.spec.problems(method, body))
        else:
            call.error = str(body.get("error"))
        if method in self._held:
            if self._held[method] > 0:
                self._held[method] -= 1
            else:
                await self.release.wait()
        return web.json_response(body)

    async def _read(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    data = await request.json()
                except ValueError:
                    data = {}
                args.update(data if isinstance(data, dict) else {})
            else:
                args.update(dict(await request.post()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or str(args.pop("token", ""))
        args.pop("token", None)
        return token, args

    def _answer(self, method: str, token: str, args: dict[str, Any]) -> dict[str, Any]:
        problems = self.spec.argument_problems(method, args)
        if problems is None:
            self.violations.append(f"{method}: no such Web API method")
            return {"ok": False, "error": "unknown_method"}
        if problems:
            self.violations.extend(problems)
            return {"ok": False, "error": "invalid_arguments"}
        wanted = APP_TOKEN if method in self.spec.app_token_methods else BOT_TOKEN
        if token != wanted:
            return {"ok": False, "error": "invalid_auth"}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": True}
        return handler(args)

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://city.slack.com/", "team": "City Hall", "user": "helpdesk",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}

    def _user_object(self, user: SlackUser) -> dict[str, Any]:
        name = user.real_name or user.email.split("@")[0]
        profile = {"real_name": name, "display_name": name, "avatar_hash": "ge3b51ca72de", "real_name_normalized":
                   name, "display_name_normalized": name, "title": "", "phone": "", "skype": "", "status_text": "",
                   "status_emoji": "", "fields": None, "email": user.email}
        return {"id": user.id, "team_id": TEAM, "name": user.email.split("@")[0], "deleted": user.deleted,
                "real_name": name, "profile": profile, "is_bot": user.is_bot, "is_app_user": False,
                "updated": 1700000000}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_object(user)}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = list(self.users.values())
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or self.page_size), self.page_size)
        page = members[start : start + limit]
        following = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": [self._user_object(u) for u in page], "cache_ts": 1700000000,
                "response_metadata": {"next_cursor": following}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("users", "")).split(",")[0])
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": user.dm}}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts, channel = self._next_ts(), str(args["channel"])
        message = {"type": "message", "text": str(args.get("text", "")), "ts": ts, "user": BOT_USER,
                   "bot_id": BOT_ID, "blocks": _blocks(args.get("blocks"))}
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        if args.get("metadata"):
            message["metadata"] = _json_arg(args["metadata"])
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first, no thread replies; metadata only with ``include_all_metadata``."""
        channel = str(args.get("channel", ""))
        limit = min(int(args.get("limit") or 100), 999)
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted((m for (c, ts), m in self.messages.items()
                        if c == channel and oldest <= float(ts) <= latest and m.get("thread_ts", ts) == ts),
                       key=lambda m: float(m["ts"]), reverse=True)
        shown = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in found[:limit]]
        return {"ok": True, "messages": shown, "has_more": len(found) > limit, "pin_count": 0,
                "channel_actions_ts": None, "channel_actions_count": 0}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args["channel"]), str(args["ts"]))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key].update(text=str(args.get("text", "")), blocks=_blocks(args.get("blocks")))
        return {"ok": True, "channel": key[0], "ts": key[1], "text": str(args.get("text", "")),
                "message": {"text": str(args.get("text", ""))}}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        self.ephemeral.append({**args, "ts": ts})
        return {"ok": True, "message_ts": ts}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = _json_arg(args["view"])
        self.views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.views):09d}", **view}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = _json_arg(args["view"])
        self.home[str(args["user_id"])] = view
        return {"ok": True, "view": {"id": "VHOME00001", **view}}

    def _usergroups_list(self, _: dict[str, Any]) -> dict[str, Any]:
        groups = []
        for number, handle in enumerate(self.groups, start=1):
            groups.append({
                "id": f"S{number:09d}", "team_id": TEAM, "is_usergroup": True, "is_subteam": True, "name": handle,
                "description": "", "handle": handle, "is_external": False, "date_create": 1700000000,
                "date_update": 1700000000, "date_delete": 0, "auto_type": None, "auto_provision": False,
                "enterprise_subteam_id": "", "created_by": BOT_USER, "updated_by": BOT_USER, "deleted_by": None,
                "prefs": {"channels": [], "groups": []}, "user_count": len(self.groups[handle]),
            })
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        for number, handle in enumerate(self.groups, start=1):
            if args["usergroup"] == f"S{number:09d}":
                return {"ok": True, "users": list(self.groups[handle])}
        return {"ok": False, "error": "no_such_subteam"}

    def _panel_update(self, args: dict[str, Any], change: Any) -> dict[str, Any]:
        """Apply ``change`` to the agent-panel thread a call names: a thread of a DM with the bot (Slack
        answers other channels with an error)."""
        channel = str(args["channel_id"])
        if self.user_by_dm(channel) is None:
            return {"ok": False, "error": "channel_not_found"}
        change(self.threads.setdefault((channel, str(args["thread_ts"])),
                                       {"statuses": [], "title": None, "prompts": None}))
        return {"ok": True}

    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._panel_update(args, lambda thread: thread["statuses"].append(str(args["status"])))

    def _assistant_threads_setTitle(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._panel_update(args, lambda thread: thread.update(title=str(args["title"])))

    def _assistant_threads_setSuggestedPrompts(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._panel_update(args, lambda thread: thread.update(prompts=_json_arg(args["prompts"])))

    def _apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=fake-ticket"}

    # Socket Mode ------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": len(self._sockets),
                                "connection_info": {"app_id": "A0HELPDESK"}})
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                future = self._acks.get(str(data.get("envelope_id")))
                if future is not None and not future.done():
                    future.set_result(data)
        self._sockets.remove(socket)
        return socket

    async def connected(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected."""
        deadline = time.monotonic() + timeout
        while not self._sockets:
            if time.monotonic() > deadline:
                raise TimeoutError("no Socket Mode client connected")
            await asyncio.sleep(0.01)

    async def envelope(self, kind: str, payload: dict[str, Any], *, timeout: float = 5.0) -> dict[str, Any]:
        """Send one envelope over Socket Mode and return the client's ack (which names its envelope_id)."""
        await self.connected(timeout)
        envelope_id = f"env-{next(self._ts)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self._sockets[-1].send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                           "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                                           "retry_reason": ""})
        return await asyncio.wait_for(future, timeout)


def _json_arg(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _blocks(value: Any) -> list[dict[str, Any]]:
    blocks = _json_arg(value) if value else []
    return blocks if isinstance(blocks, list) else []
