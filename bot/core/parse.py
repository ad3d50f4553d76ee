"""The shapes the NLU speaks: Rasa's ``/model/parse`` JSON and the ``Parser`` port."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, Protocol, TypedDict, runtime_checkable

__all__ = ["Entity", "Example", "IntentScore", "ParseResult", "Parser", "entities_of", "ranking_of", "read_first"]


class IntentScore(TypedDict):
    """One intent and how sure the parser is of it (0.0 to 1.0)."""

    name: str
    confidence: float


class Entity(TypedDict):
    """One entity found in the text; ``start``/``end`` are character offsets into it."""

    entity: str
    value: str
    start: int
    end: int
    extractor: str
    confidence_entity: NotRequired[float]


class ParseResult(TypedDict):
    """What Rasa's ``POST /model/parse`` returns, and what every parser returns."""

    text: str
    intent: IntentScore
    entities: list[Entity]
    intent_ranking: list[IntentScore]


@runtime_checkable
class Parser(Protocol):
    """The NLU port: turn one message into a ``ParseResult``."""

    @property
    def name(self) -> str:
        """A short name for logs and metrics, such as ``embedded`` or ``rasa``."""
        ...

    @property
    def ready(self) -> bool:
        """True when ``parse`` can answer now (a model is loaded)."""
        ...

    async def parse(self, text: str) -> ParseResult:
        """Classify ``text`` and extract its entities."""
        ...


@dataclass
class Example:
    """One labelled training or test message.

    ``entities`` holds dicts with ``entity``, ``value``, ``start`` and ``end``
    (offsets into ``text``).
    """

    text: str
    intent: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def entities_of(parse: ParseResult | None) -> list[Entity]:
    """The entities of ``parse`` ([] for no parse, or one stored without them)."""
    return list(parse.get("entities", [])) if parse else []


def ranking_of(parse: ParseResult | None) -> list[IntentScore]:
    """The intent ranking of ``parse``, best first ([] for no parse, or one stored without it)."""
    return list(parse.get("intent_ranking", [])) if parse else []


def read_first(parse: ParseResult, reading: IntentScore) -> ParseResult:
    """``parse`` with ``reading`` as its intent and first in its ranking (the parser's own score of that intent
    dropped, its other readings after it)."""
    others = [r for r in parse.get("intent_ranking", []) if r["name"] != reading["name"]]
    return {**parse, "intent": reading, "intent_ranking": [reading, *others]}
