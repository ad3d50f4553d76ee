"""The Rasa adapter: a running Rasa server's ``POST /model/parse`` behind the ``Parser`` port.

Every call has a timeout and a few retries. A circuit breaker counts calls
that failed after their retries; after ``failures`` of them in a row it
opens, and for ``reset_after`` seconds no call goes to Rasa at all. Then one
call tries again (half-open): success closes the breaker, failure opens it
again. Whenever Rasa cannot answer, the fallback parser (the embedded one)
answers instead, a warning is logged and ``helpdesk_nlu_fallbacks_total``
counts it, so the router never sees the difference.

Rasa's answer is reduced to our ``ParseResult``: its ``nlu_fallback`` intent
(the FallbackClassifier's) becomes ``out_of_scope``, an entity found by
two extractors over the same span is kept once, and a learned entity less
sure than ``MIN_ENTITY_CONFIDENCE`` is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from yarl import URL

from bot.core.metrics import NLU_FALLBACKS, NLU_RASA_CIRCUIT_OPEN
from bot.core.parse import Entity, IntentScore, Parser, ParseResult
from bot.nlu.embedded import OUT_OF_SCOPE

__all__ = ["RASA_FALLBACK_INTENT", "CircuitBreaker", "RasaError", "RasaHttpParser", "from_rasa_json"]

RASA_FALLBACK_INTENT = "nlu_fallback"
RETRY_PAUSE = 0.05
# DIET tags the odd word ("I", a German noun) as a system with 0.6-0.9 confidence;
# the regex and lookup extractors give no confidence and are always kept.
MIN_ENTITY_CONFIDENCE = 0.9

log = logging.getLogger(__name__)


class RasaError(Exception):
    """Rasa did not give a usable answer (down, slow, refused, or nonsense)."""


class CircuitBreaker:
    """Closed, open or half-open, after consecutive failures; ``clock`` returns seconds."""

    def __init__(self, failures: int = 3, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.reset_after = reset_after
        self.clock = clock
        self._failed = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> str:
        """``closed`` (calls go through), ``open`` (they do not) or ``half-open`` (one may try)."""
        if self._opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self._opened_at >= self.reset_after else "open"

    def allows(self) -> bool:
        """True when a call may go to the server now."""
        return self.state != "open"

    def succeeded(self) -> None:
        """Record a good answer: the breaker closes."""
        self._failed = 0
        self._opened_at = None

    def failed(self) -> bool:
        """Record a failed call; True when this failure opened (or re-opened) the breaker."""
        self._failed += 1
        if self._opened_at is not None or self._failed >= self.failures:
            self._opened_at = self.clock()
            return True
        return False


class RasaHttpParser:
    """Parse with a Rasa server; fall back to ``fallback`` while it cannot answer."""

    def __init__(self, url: str, fallback: Parser, *, token: str | None = None, timeout: float = 2.0,
                 retries: int = 1, breaker: CircuitBreaker | None = None) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self._shown_url = str(URL(self.url).with_user(None))  # for logs: no user:password@
        self.fallback = fallback
        self._token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.breaker = breaker or CircuitBreaker()
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._degraded = False
        NLU_RASA_CIRCUIT_OPEN.set(0)

    @property
    def name(self) -> str:
        """Always ``rasa``."""
        return "rasa"

    @property
    def ready(self) -> bool:
        """True: when Rasa is down the fallback answers."""
        return True

    async def parse(self, text: str) -> ParseResult:
        """Rasa's parse of ``text``, or the fallback's when Rasa cannot answer."""
        if not self.breaker.allows():
            return await self._fall_back(text, "circuit_open")
        try:
            result = await self.parse_with_rasa(text)
        except RasaError as exc:
            if self.breaker.failed():
                self._degraded = True
                NLU_RASA_CIRCUIT_OPEN.set(1)
                log.warning("Rasa at %s failed (%s); the %s parser answers for the next %.0f s",
                            self._shown_url, exc, self.fallback.name, self.breaker.reset_after)
            else:
                log.warning("Rasa at %s failed (%s); the %s parser answered", self._shown_url, exc,
                            self.fallback.name)
            return await self._fall_back(text, "error")
        self.breaker.succeeded()
        if self._degraded:
            self._degraded = False
            NLU_RASA_CIRCUIT_OPEN.set(0)
            log.warning("Rasa at %s answers again", self._shown_url)
        return result

    async def parse_with_rasa(self, text: str) -> ParseResult:
        """Ask Rasa only (with retries); raises ``RasaError`` when it cannot answer."""
        problem = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(RETRY_PAUSE * attempt)
            try:
                return await self._post(text)
            except _Refused as exc:
                raise RasaError(str(exc)) from None
            except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError) as exc:
                problem = _describe(exc)
        raise RasaError(f"{problem} after {self.retries + 1} attempts")

    async def close(self) -> None:
        """Close the HTTP session (a new one opens on the next parse)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _post(self, text: str) -> ParseResult:
        session = self._current_session()
        params = {"token": self._token} if self._token else None
        async with session.post(self.url, json={"text": text}, params=params) as response:
            if response.status in (401, 403):
                raise _Refused(f"Rasa refused the request (HTTP {response.status}); check HELPDESK_RASA_TOKEN")
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status,
                                                  message=response.reason or "")
            body = await response.json(content_type=None)
        return from_rasa_json(body, text)

    def _current_session(self) -> aiohttp.ClientSession:
        """One session per event loop (``helpdesk nlu evaluate`` runs its own loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._session_loop = loop
        return self._session

    async def _fall_back(self, text: str, reason: str) -> ParseResult:
        NLU_FALLBACKS.labels(reason=reason).inc()
        return await self.fallback.parse(text)


class _Refused(Exception):
    """Rasa refused our token: retrying will not help."""


def from_rasa_json(body: Any, text: str) -> ParseResult:
    """Our ``ParseResult`` from Rasa's ``/model/parse`` JSON; raises ``ValueError`` when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("intent"), dict):
        raise ValueError("the answer is not a /model/parse result")
    ranking = [_intent(item) for item in body.get("intent_ranking") or [] if isinstance(item, dict)]
    top = _intent(body["intent"])
    if top["name"] == RASA_FALLBACK_INTENT:
        # Rasa's FallbackClassifier: below its threshold, or two intents too close.
        top = IntentScore(name=OUT_OF_SCOPE, confidence=top["confidence"])
        ranking = [r for r in ranking if r["name"] not in (RASA_FALLBACK_INTENT, OUT_OF_SCOPE)]
        ranking.insert(0, top)
    if not ranking:
        ranking = [top]
    return ParseResult(text=text, intent=top, entities=_entities(body.get("entities") or [], text),
                       intent_ranking=ranking)


def _intent(item: dict[str, Any]) -> IntentScore:
    name = item.get("name")
    confidence = float(item.get("confidence") or 0.0)
    return IntentScore(name=str(name) if name else OUT_OF_SCOPE, confidence=min(max(confidence, 0.0), 1.0))


def _entities(items: list[Any], text: str) -> list[Entity]:
    found: list[Entity] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        start, end = int(item["start"]), int(item["end"])
        if not 0 <= start < end <= len(text) or any(start < e["end"] and e["start"] < end for e in found):
            continue
        confidence = item.get("confidence_entity")
        if confidence is not None and float(confidence) < MIN_ENTITY_CONFIDENCE:
            continue
        entity = Entity(entity=str(item["entity"]), value=str(item.get("value", text[start:end])), start=start,
                        end=end, extractor=str(item.get("extractor", "rasa")))
        if confidence is not None:
            entity["confidence_entity"] = float(confidence)
        found.append(entity)
    return sorted(found, key=lambda e: e["start"])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
