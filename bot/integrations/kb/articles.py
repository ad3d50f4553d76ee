"""How-to articles: Markdown files with a YAML front matter, read one by one with errors that name file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml

from bot.core.yaml_files import safe_load
from bot.nlu.signals import SignalKind

__all__ = ["Article", "parse_article"]

_STEP = re.compile(r"^\s*\d+\.\s")


@dataclass(frozen=True)
class Article:
    """One how-to article."""

    id: str
    title: str
    body: str = field(repr=False)
    tags: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    audience: str = "all staff"
    url: str | None = None
    path: str = ""
    questions: tuple[str, ...] = ()
    request: bool = False
    """The guide tells how to ask IT for something (a new hire's setup, door access, software): a message that tells
    the need rather than asks how gets the ticket preview beside it (front matter ``request: true``)."""
    reported: SignalKind | None = None
    """The kind of signal (``security`` or ``urgency``, as the signal reader reads them) of a matter the guide says
    to report at once (front matter ``reported: security``, the lost or stolen device): a message it answers that
    the signal reader reads as that kind gets the report, and the guide below it."""

    def first_steps(self, count: int = 4) -> list[str]:
        """The first numbered steps, for a short answer."""
        return [line.strip() for line in self.body.splitlines() if _STEP.match(line)][:count]

    def summary(self) -> str:
        """The first paragraph of the body."""
        for block in self.body.strip().split("\n\n"):
            block = block.strip()
            if block and not block.startswith("#"):
                return block
        return ""


def _front_matter_line(text: str, key: str) -> int:
    """The 1-based line of ``key:`` in the front matter, or 2 when it is absent."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.startswith(f"{key}:"):
            return number
        if line.strip() == "---":
            break
    return 2


def _string_list(meta: dict[str, Any], key: str, path: Path, text: str) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or any(isinstance(item, (dict, list)) for item in value):
        raise ValueError(f"{path}:{_front_matter_line(text, key)}: '{key}' must be a list of strings")
    return tuple(str(item).strip() for item in value if item is not None and str(item).strip())


def parse_article(path: Path) -> Article:
    """Read one article. A bad front matter raises ValueError naming the file and line."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ValueError(f"{path}:1: the article must start with '---' and a YAML front matter")
    end = text.find("\n---", 3)
    if end < 0:
        raise ValueError(f"{path}:1: the front matter is not closed with '---'")
    try:
        meta = safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line if mark is not None else 0) + 1
        raise ValueError(f"{path}:{line}: bad front matter: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}:2: the front matter must be a mapping of keys")
    for key in ("id", "title"):
        if not meta.get(key):
            raise ValueError(f"{path}:{_front_matter_line(text, key)}: the front matter needs '{key}'")
    return Article(
        id=str(meta["id"]),
        title=str(meta["title"]),
        body=text[end + 4:].strip(),
        tags=_string_list(meta, "tags", path, text),
        systems=tuple(s.lower() for s in _string_list(meta, "systems", path, text)),
        audience=str(meta.get("audience") or "all staff"),
        url=str(meta["url"]) if meta.get("url") else None,
        path=str(path),
        questions=_string_list(meta, "questions", path, text),
        request=meta.get("request") is True,
        reported=_reported(meta, path, text),
    )


def _reported(meta: dict[str, Any], path: Path, text: str) -> SignalKind | None:
    value = meta.get("reported")
    if value is not None and value not in get_args(SignalKind):
        kinds = " or ".join(get_args(SignalKind))
        raise ValueError(f"{path}:{_front_matter_line(text, 'reported')}: 'reported' must be {kinds}")
    return value
