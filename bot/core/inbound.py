"""Cleaning what comes in from outside, at the edge of every channel, before anything is stored or looked up.

Text keeps what a person typed but loses what no database or screen should
hold: NUL and other control characters (PostgreSQL refuses NUL in text) and
lone surrogates (they cannot be encoded as UTF-8). Ids (user ids, emails,
conversation ids, button ids) are refused when they could not be real: control
characters, too long, or a number no database row can have. JSON is refused
when it is nested deeper than any request of ours.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.messages import Turn

__all__ = [
    "MAX_ACTION_CHARS",
    "MAX_DEPTH",
    "MAX_ID_CHARS",
    "MAX_RECORD_ID",
    "BadInput",
    "check_depth",
    "clean_action",
    "clean_form",
    "clean_id",
    "clean_text",
    "clean_turn",
    "loads",
    "record_id",
]

MAX_RECORD_ID = 2**31 - 1
"""The largest row id the database holds (PostgreSQL ``integer``); a bigger number names nothing."""
MAX_ID_CHARS = 200
"""The longest user, conversation or event id stored (the columns' length)."""
MAX_ACTION_CHARS = 2000
"""The longest button id (Slack's limit on a button value)."""
MAX_DEPTH = 32
"""The deepest JSON nesting accepted; the bot's own requests and Slack's or Teams' payloads stay far below."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class BadInput(ValueError):
    """Input that cannot be taken as it is; the message says why in plain words."""


def clean_text(text: str) -> str:
    """``text`` without NUL and other control characters (tab and line breaks stay), lone surrogates as U+FFFD."""
    text = _CONTROL.sub("", text)
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def clean_id(value: object, what: str = "id", limit: int = MAX_ID_CHARS) -> str:
    """``value`` as an id: a non-empty string of at most ``limit`` characters with no control characters."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be a string")
    value = value.strip()
    if not value:
        raise BadInput(f"{what} is empty")
    if len(value) > limit:
        raise BadInput(f"{what} is longer than {limit} characters")
    if _UNPRINTABLE.search(value):
        raise BadInput(f"{what} contains control characters")
    return value


def clean_action(value: object) -> str:
    """A button or form id: printable, at most ``MAX_ACTION_CHARS``, every all-digit part ASCII and at most
    ``MAX_RECORD_ID``."""
    if not isinstance(value, str) or not value:
        raise BadInput("a button id must be a non-empty string")
    if len(value) > MAX_ACTION_CHARS or _UNPRINTABLE.search(value):
        raise BadInput("that button id is too long or contains control characters")
    for part in value.split(":"):
        if part.isdigit() and (not part.isascii() or len(part) > 10 or int(part) > MAX_RECORD_ID):
            raise BadInput("that button names a number no record can have")
    return value


def clean_form(values: dict[Any, Any]) -> dict[str, str]:
    """Form values by input name, names and values as cleaned text (a missing value is empty)."""
    return {clean_text(str(name)): "" if value is None else clean_text(str(value)) for name, value in values.items()}


def clean_turn(turn: Turn) -> None:
    """Clean a turn's text and form values in place; ``BadInput`` when its button id cannot be ours."""
    turn.text = clean_text(turn.text)
    if turn.form is not None:
        turn.form = clean_form(turn.form)
    if turn.action is not None:
        turn.action = clean_action(turn.action)


def record_id(text: str) -> int | None:
    """``text`` as a row id (ASCII digits, 1 to ``MAX_RECORD_ID``), or None when it cannot be one."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_RECORD_ID else None


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise ``BadInput`` when ``value`` (parsed JSON) nests deeper than ``limit`` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                raise BadInput(f"nested deeper than {limit} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def loads(raw: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``limit`` with ``BadInput`` instead of a RecursionError."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadInput(f"nested deeper than {limit} levels") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON: {exc.msg} at column {exc.colno}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"not JSON: {exc}") from None
    check_depth(value, limit)
    return value
