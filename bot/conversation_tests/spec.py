"""Read conversation test files: a YAML list of conversations, each with steps and the outcome a good bot reaches.

```yaml
- name: copier jam
  user: cara@city.example            # optional; a fresh user per conversation by default
  steps:
    - say: "the copier on 3rd floor keeps jamming"
    - expect: {intent: open_ticket, ticket: false}
    - click: "Submit"                 # a button, by its label
    - submit: {title: "..."}          # answers the last form shown
    - expect: {ticket: true, text: "HELP-\\d+"}
  outcome: ticket                     # self_service | ticket | approval | handoff | declined
```

Every problem raises ``ConversationFileError`` naming the file and 1-based line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml

from bot.core.errors import DataFileError
from bot.core.yaml_files import SAFE_LOADER

__all__ = [
    "RESOLVED",
    "ROUTED",
    "Click",
    "ConversationFileError",
    "ConversationTest",
    "Expect",
    "Outcome",
    "Say",
    "Step",
    "Submit",
    "load_conversations",
]


class ConversationFileError(DataFileError):
    """A conversation test file is not valid. The message names the file and line."""


class Outcome(StrEnum):
    """Where a good bot takes the conversation."""

    SELF_SERVICE = "self_service"
    TICKET = "ticket"
    APPROVAL = "approval"
    HANDOFF = "handoff"
    DECLINED = "declined"


RESOLVED = frozenset({Outcome.SELF_SERVICE, Outcome.DECLINED})
"""Outcomes the bot reaches alone, with no technician."""
ROUTED = frozenset({Outcome.TICKET, Outcome.APPROVAL, Outcome.HANDOFF})
"""Outcomes that need a technician."""


@dataclass(frozen=True)
class Say:
    """The employee writes ``text``."""

    text: str
    line: int


@dataclass(frozen=True)
class Click:
    """The employee clicks the button labelled ``label`` (the newest one shown to them)."""

    label: str
    line: int


@dataclass(frozen=True)
class Submit:
    """The employee submits the newest form shown to them: its initial values with ``values`` typed over."""

    values: dict[str, str]
    line: int


@dataclass(frozen=True)
class Expect:
    """What must hold for what the actions since the previous ``expect`` (or the start) caused.

    ``intent``: the intent the bot read from the last message said; ``article``: an article id
    the bot answered with; ``text``: a regex found in the bot's replies; ``ticket``,
    ``approval``, ``to_technicians``: whether a ticket was filed, an approval asked, the
    technicians' conversation written to. ``None`` is not checked.
    """

    line: int
    intent: str | None = None
    article: str | None = None
    text: re.Pattern[str] | None = None
    ticket: bool | None = None
    approval: bool | None = None
    to_technicians: bool | None = None


Step = Say | Click | Submit | Expect


@dataclass(frozen=True)
class ConversationTest:
    """One conversation: who talks, what they do, and the outcome a good bot reaches."""

    name: str
    path: str
    line: int
    outcome: Outcome
    steps: tuple[Step, ...] = field(default_factory=tuple)
    user: str | None = None

    @property
    def source(self) -> str:
        """``file:line`` of the conversation."""
        return f"{self.path}:{self.line}"


_CONVERSATION_KEYS = ("name", "user", "steps", "outcome")
_STEP_KEYS = ("say", "click", "submit", "expect")
_EXPECT_FLAGS = ("ticket", "approval", "to_technicians")
_EXPECT_KEYS = ("intent", "article", "text", *_EXPECT_FLAGS)


def load_conversations(paths: list[Path]) -> list[ConversationTest]:
    """Every conversation of ``paths`` (files, or folders read for ``*.yml``/``*.yaml``), in order.

    Names must be unique across all the files, so a report line names one conversation.
    """
    conversations: list[ConversationTest] = []
    seen: dict[str, str] = {}
    for path in _files(paths):
        for conversation in _load_file(path):
            if conversation.name in seen:
                raise ConversationFileError(conversation.path, conversation.line,
                                            f"the name {conversation.name!r} is already used at "
                                            f"{seen[conversation.name]}")
            seen[conversation.name] = conversation.source
            conversations.append(conversation)
    return conversations


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yml", ".yaml") and p.is_file())
            if not inside:
                raise ConversationFileError(str(path), None, "the folder has no .yml or .yaml files")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise ConversationFileError(str(path), None, "no such file or folder")
    return found


def _load_file(path: Path) -> list[ConversationTest]:
    name = str(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except UnicodeDecodeError:
        raise ConversationFileError(name, None, "not UTF-8 text") from None
    except OSError as exc:
        raise ConversationFileError(name, None, f"cannot read it: {exc.strerror or exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConversationFileError(name, mark.line + 1 if mark else None, f"bad YAML: {exc.problem or exc}") from None
    if root is None:
        raise ConversationFileError(name, None, "the file is empty; it must be a list of conversations")
    if not isinstance(root, yaml.SequenceNode):
        raise ConversationFileError(name, _line(root), "the file must be a list of conversations (- name: ...)")
    return [_conversation(name, node) for node in root.value]


def _conversation(path: str, node: yaml.Node) -> ConversationTest:
    fields = _mapping(path, node, "a conversation", _CONVERSATION_KEYS)
    line = _line(node)
    for key in ("name", "steps", "outcome"):
        if key not in fields:
            raise ConversationFileError(path, line, f"a conversation needs '{key}'")
    title = _text(path, fields["name"], "'name'")
    user = _text(path, fields["user"], "'user'") if "user" in fields else None
    if user is not None and "@" not in user:
        raise ConversationFileError(path, _line(fields["user"]), f"'user' must be an email address, not {user!r}")
    outcome_text = _text(path, fields["outcome"], "'outcome'")
    try:
        outcome = Outcome(outcome_text)
    except ValueError:
        choices = " | ".join(o.value for o in Outcome)
        raise ConversationFileError(path, _line(fields["outcome"]),
                                    f"'outcome' must be one of {choices}, not {outcome_text!r}") from None
    steps_node = fields["steps"]
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        raise ConversationFileError(path, _line(steps_node), f"conversation {title!r}: 'steps' must be a non-empty "
                                                             "list")
    steps = tuple(_step(path, step) for step in steps_node.value)
    if not any(isinstance(step, Say) for step in steps):
        raise ConversationFileError(path, line, f"conversation {title!r} never says anything (no 'say' step)")
    return ConversationTest(name=title, path=path, line=line, outcome=outcome, steps=steps,
                            user=user.lower() if user else None)


def _step(path: str, node: yaml.Node) -> Step:
    fields = _mapping(path, node, "a step", _STEP_KEYS)
    if len(fields) != 1:
        raise ConversationFileError(path, _line(node),
                                    "a step has exactly one of say, click, submit, expect")
    (kind, value), = fields.items()
    line = _line(node)
    if kind == "say":
        text = _text(path, value, "'say'")
        if not text.strip():
            raise ConversationFileError(path, line, "'say' is empty")
        return Say(text, line)
    if kind == "click":
        return Click(_text(path, value, "'click' (a button label)"), line)
    if kind == "submit":
        values = _mapping(path, value, "'submit' (input name: value)", None)
        return Submit({key: _text(path, item, f"the value of {key!r}", scalar_ok=True)
                       for key, item in values.items()}, line)
    return _expect(path, value, line)


def _expect(path: str, node: yaml.Node, line: int) -> Expect:
    fields = _mapping(path, node, "'expect'", _EXPECT_KEYS)
    if not fields:
        raise ConversationFileError(path, line, f"'expect' needs at least one of {', '.join(_EXPECT_KEYS)}")
    values: dict[str, object] = {}
    for key in ("intent", "article"):
        if key in fields:
            values[key] = _text(path, fields[key], f"'{key}'")
    if "text" in fields:
        pattern = _text(path, fields["text"], "'text' (a regular expression)")
        try:
            values["text"] = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConversationFileError(path, _line(fields["text"]),
                                        f"'text' is not a valid regular expression: {exc}") from None
    for key in _EXPECT_FLAGS:
        if key in fields:
            flag = fields[key]
            if not (isinstance(flag, yaml.ScalarNode) and flag.tag.endswith(":bool")):
                raise ConversationFileError(path, _line(flag), f"'{key}' must be true or false")
            values[key] = flag.value.lower() in ("true", "yes", "on")
    return Expect(line=line, **values)  # type: ignore[arg-type]


def _mapping(path: str, node: yaml.Node, what: str, allowed: tuple[str, ...] | None) -> dict[str, yaml.Node]:
    """A mapping node's items by key; unknown keys (when ``allowed`` is given) and duplicates are errors."""
    if not isinstance(node, yaml.MappingNode):
        raise ConversationFileError(path, _line(node), f"{what} must be a mapping (key: value)")
    items: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise ConversationFileError(path, _line(key_node), f"{what} has a key that is not text")
        if allowed is not None and key not in allowed:
            raise ConversationFileError(path, _line(key_node),
                                        f"{what} has an unknown key {key!r} (allowed: {', '.join(allowed)})")
        if key in items:
            raise ConversationFileError(path, _line(key_node), f"duplicate key {key!r}")
        items[key] = value_node
    return items


def _text(path: str, node: yaml.Node, what: str, scalar_ok: bool = False) -> str:
    """A text value. Numbers and booleans are refused (a quoted "10" is fine) unless ``scalar_ok``."""
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        raise ConversationFileError(path, _line(node), f"{what} must be text")
    if not scalar_ok and not node.tag.endswith(":str"):
        raise ConversationFileError(path, _line(node), f"{what} must be text (put it in quotes)")
    return str(node.value)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1
