"""A stand-in Rasa server on 127.0.0.1 that replays answers recorded from a real Rasa 3.6.

It speaks ``POST /model/parse`` (with ``?token=`` auth as ``rasa run
--auth-token`` does, refusing with the recorded 401 body), ``GET /`` and
``GET /version``. Faults are switched on by the test: ``delay`` (seconds
before each answer), ``fail_next`` (that many HTTP 500s) and ``garbage``
(a 200 that is not parse JSON).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["REPLAY_FILE", "ReplayRasa", "recorded"]

REPLAY_FILE = Path(__file__).resolve().parent.parent / "data" / "rasa_replay.json"


def recorded() -> dict[str, Any]:
    """The recorded file: ``version``, ``unauthorized`` and ``responses`` (text -> parse JSON)."""
    return json.loads(REPLAY_FILE.read_text(encoding="utf-8"))


class ReplayRasa:
    """The replaying server; ``url`` is set by ``start``."""

    def __init__(self, token: str | None = None) -> None:
        self.data = recorded()
        self.token = token
        self.delay = 0.0
        self.fail_next = 0
        self.garbage = False
        self.calls = 0
        self.asked: list[str] = []
        """The texts asked about, in order (those of a refused or failed call too)."""
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> ReplayRasa:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/model/parse", self._parse)
        app.router.add_get("/", self._hello)
        app.router.add_get("/version", self._version)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Stop listening (later calls are refused connections)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _parse(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.token is not None and request.query.get("token") != self.token:
            refused = self.data["unauthorized"]
            return web.json_response(refused["body"], status=refused["status"])
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            self.fail_next -= 1
            return web.json_response({"status": "failure", "reason": "ParsingError", "code": 500}, status=500)
        if self.garbage:
            return web.Response(text="<html>proxy error</html>", content_type="text/html")
        body = await request.json()
        self.asked.append(str(body.get("text")))
        answer = self.data["responses"].get(body.get("text"))
        if answer is None:
            return web.json_response({"status": "failure", "message": "not recorded", "code": 404}, status=404)
        return web.json_response(answer)

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(text=f"Hello from Rasa: {self.data['version']['version']}")

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(self.data["version"])
