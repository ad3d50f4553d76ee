"""Read Rasa 3.x NLU training data (YAML) and labelled test sets (YAML or JSONL).

Supported items under ``nlu:`` are ``intent``, ``synonym``, ``regex`` and
``lookup``, each with an ``examples: |`` block of ``- `` lines. Examples may
carry entity annotations in Rasa's forms ``[surface](entity)``,
``[surface](entity:value)`` and ``[surface]{"entity": "e", "value": "v"}``.
Every problem raises ``TrainingDataError`` naming the file and 1-based line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import TrainingDataError
from bot.core.parse import Example
from bot.core.yaml_files import SAFE_LOADER

__all__ = ["TrainingData", "load_examples", "load_training_data", "parse_annotated"]

_ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
_ITEM_KEYS = {*_ITEM_KINDS, "examples", "metadata"}
_TOP_KEYS = {"version", "nlu"}
_YAML_SUFFIXES = {".yml", ".yaml"}
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}

# [surface](entity) / [surface](entity:value) / [surface]{json}
_ANNOTATION = re.compile(r"\[(?P<surface>[^\[\]]+)\](?:\((?P<paren>[^()]*)\)|(?P<json>\{[^{}]*\}))")


@dataclass
class TrainingData:
    """Everything read from the NLU files, merged across files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)
    """What staff call a synonym's value (``metadata: {display: ...}``): "erp" is "Munis"."""

    @property
    def intents(self) -> list[str]:
        """The intents that have at least one example, sorted."""
        return sorted({example.intent for example in self.examples})


def load_training_data(path_or_dir: Path, exclude: tuple[str, ...] = ("test", "signals")) -> TrainingData:
    """Load one Rasa NLU YAML file, or every ``*.yml``/``*.yaml`` under a folder.

    Sub-folders whose name is in ``exclude`` are skipped (the dev test set
    lives in ``intents/test/``, the security and urgency examples of
    ``bot.nlu.signals`` in ``intents/signals/``). Files are read in sorted order.
    """
    root = Path(path_or_dir)
    data = TrainingData()
    origins: dict[str, str] = {}
    for path in _yaml_files(root, exclude):
        _load_file(path, data, origins)
    return data


def load_examples(path: Path) -> list[Example]:
    """Load labelled examples from a Rasa YAML file or folder, or a JSONL file.

    A JSONL line is ``{"text": ..., "intent": ..., "entities": [...]}``; blank
    lines are skipped. A folder is read whole (nothing is excluded).
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() in _JSONL_SUFFIXES:
        return _load_jsonl(path)
    return load_training_data(path, exclude=()).examples


def parse_annotated(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Strip Rasa entity annotations from ``text``.

    Returns the plain text and its entities (``entity``, ``value``, ``start``,
    ``end``; offsets into the plain text). Raises ``ValueError`` for an
    unbalanced or malformed annotation.
    """
    plain: list[str] = []
    entities: list[dict[str, Any]] = []
    position = 0
    length = 0
    for match in _ANNOTATION.finditer(text):
        before = text[position : match.start()]
        _check_no_brackets(before)
        plain.append(before)
        length += len(before)
        surface = match.group("surface")
        entity, value = _annotation_target(match)
        entities.append({"entity": entity, "value": value if value is not None else surface,
                         "start": length, "end": length + len(surface)})
        plain.append(surface)
        length += len(surface)
        position = match.end()
    rest = text[position:]
    _check_no_brackets(rest)
    plain.append(rest)
    return "".join(plain), entities


def _check_no_brackets(fragment: str) -> None:
    for char in "[]":
        if char in fragment:
            raise ValueError(
                f"unbalanced or malformed entity annotation near {fragment.strip()!r}; "
                "write [surface](entity), [surface](entity:value) or [surface]{\"entity\": ...}"
            )


def _annotation_target(match: re.Match[str]) -> tuple[str, str | None]:
    """The entity name and optional value of one annotation match."""
    if match.group("json") is not None:
        try:
            spec = json.loads(match.group("json"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"bad JSON in entity annotation {match.group('json')!r}: {exc.msg}") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str) or not spec["entity"].strip():
            raise ValueError(f"entity annotation {match.group('json')!r} needs a string \"entity\" key")
        value = spec.get("value")
        return spec["entity"].strip(), None if value is None else str(value)
    entity, colon, value = match.group("paren").partition(":")
    entity = entity.strip()
    if not entity:
        raise ValueError(f"entity annotation {match.group(0)!r} has no entity name")
    if colon and not value.strip():
        raise ValueError(f"entity annotation {match.group(0)!r} has an empty value")
    return entity, value.strip() if colon else None


def _yaml_files(root: Path, exclude: tuple[str, ...]) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise TrainingDataError(str(root), None, "no such file or folder")
    files = []
    for path in sorted(root.rglob("*")):
        relative_dirs = path.relative_to(root).parts[:-1]
        if path.is_file() and path.suffix.lower() in _YAML_SUFFIXES and not set(relative_dirs) & set(exclude):
            files.append(path)
    return files


def _load_file(path: Path, data: TrainingData, origins: dict[str, str]) -> None:
    """Parse one YAML file into ``data``. ``origins`` remembers where each synonym came from."""
    name = str(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise TrainingDataError(name, mark.line + 1 if mark else None, f"bad YAML: {exc.problem or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TrainingDataError(name, None, f"cannot read: {exc}") from None
    if root is None:
        return
    top = _mapping(name, root, "the file")
    for key, (key_node, _value) in top.items():
        if key not in _TOP_KEYS:
            raise TrainingDataError(name, key_node.start_mark.line + 1,
                                    f"unknown key {key!r}; an NLU file has only 'version' and 'nlu'")
    if "nlu" not in top:
        return
    items = top["nlu"][1]
    if not isinstance(items, yaml.SequenceNode):
        raise TrainingDataError(name, items.start_mark.line + 1, "'nlu' must be a list of items")
    for item in items.value:
        _load_item(name, item, data, origins)


def _mapping(name: str, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node as ``{key: (key_node, value_node)}``, refusing duplicates and odd keys."""
    if not isinstance(node, yaml.MappingNode):
        raise TrainingDataError(name, node.start_mark.line + 1, f"{what} must be a mapping")
    result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise TrainingDataError(name, key_node.start_mark.line + 1, f"{what} has a key that is not text")
        if key_node.value in result:
            raise TrainingDataError(name, key_node.start_mark.line + 1, f"duplicate key {key_node.value!r}")
        result[key_node.value] = (key_node, value_node)
    return result


def _load_item(name: str, node: yaml.Node, data: TrainingData, origins: dict[str, str]) -> None:
    item = _mapping(name, node, "an 'nlu' item")
    line = node.start_mark.line + 1
    for key, (key_node, _) in item.items():
        if key not in _ITEM_KEYS:
            raise TrainingDataError(name, key_node.start_mark.line + 1,
                                    f"unknown key {key!r}; expected one of intent, synonym, regex, lookup, examples")
    kinds = [kind for kind in _ITEM_KINDS if kind in item]
    if len(kinds) != 1:
        raise TrainingDataError(name, line, "an 'nlu' item needs exactly one of intent, synonym, regex or lookup")
    kind = kinds[0]
    label_node = item[kind][1]
    if not isinstance(label_node, yaml.ScalarNode) or not str(label_node.value).strip():
        raise TrainingDataError(name, label_node.start_mark.line + 1, f"'{kind}' needs a name")
    label = str(label_node.value).strip()
    if "examples" not in item:
        raise TrainingDataError(name, line, f"{kind} {label!r} has no 'examples'")
    if kind == "synonym" and "metadata" in item:
        display = _display_name(name, item["metadata"][1])
        if display:
            data.display_names[label] = display
    lines = _example_lines(name, item["examples"][1])
    if not lines:
        raise TrainingDataError(name, item["examples"][1].start_mark.line + 1, f"{kind} {label!r} has no examples")
    for text, text_line in lines:
        try:
            _add(kind, label, text, data, origins, f"{name}:{text_line}")
        except ValueError as exc:
            raise TrainingDataError(name, text_line, str(exc)) from None


def _display_name(name: str, node: yaml.Node) -> str:
    """The ``display`` of a synonym's metadata mapping, or ""."""
    metadata = _mapping(name, node, "'metadata'")
    if "display" not in metadata:
        return ""
    value = metadata["display"][1]
    if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
        raise TrainingDataError(name, value.start_mark.line + 1, "'display' must be a name, like Munis")
    return str(value.value).strip()


def _example_lines(name: str, node: yaml.Node) -> list[tuple[str, int]]:
    """The ``- `` lines of an examples block, each with its 1-based line in the file."""
    if not isinstance(node, yaml.ScalarNode):
        raise TrainingDataError(name, node.start_mark.line + 1,
                                "'examples' must be a '|' block of '- ' lines, not a YAML list or mapping")
    # In a literal block (|) the content starts on the line after the indicator, line for line.
    first_line = node.start_mark.line + 2 if node.style == "|" else node.start_mark.line + 1
    result = []
    for offset, raw in enumerate(str(node.value).splitlines()):
        stripped = raw.strip()
        if not stripped:
            continue
        line = first_line + offset
        if not (stripped.startswith("- ") or stripped == "-"):
            raise TrainingDataError(name, line, f"example {stripped!r} does not start with '- '")
        text = stripped[1:].strip()
        if not text:
            raise TrainingDataError(name, line, "empty example")
        result.append((text, line))
    return result


def _add(kind: str, label: str, text: str, data: TrainingData, origins: dict[str, str], where: str) -> None:
    """Add one example line of an item of ``kind`` named ``label``."""
    if kind == "intent":
        plain, entities = parse_annotated(text)
        if not plain.strip():
            raise ValueError("example is empty once annotations are removed")
        data.examples.append(Example(text=plain, intent=label, entities=entities))
        for entity in entities:
            surface = plain[entity["start"] : entity["end"]]
            if entity["value"] != surface and entity["value"] != surface.lower():
                _add_synonym(surface, entity["value"], data, origins, where)
    elif kind == "synonym":
        _add_synonym(text, label, data, origins, where)
    elif kind == "regex":
        try:
            re.compile(text)
        except re.error as exc:
            raise ValueError(f"bad regular expression {text!r}: {exc}") from None
        data.regexes.setdefault(label, []).append(text)
    else:
        data.lookups.setdefault(label, []).append(text)


def _add_synonym(surface: str, value: str, data: TrainingData, origins: dict[str, str], where: str) -> None:
    key = surface.strip().lower()
    known = data.synonyms.get(key)
    if known is not None and known != value:
        raise ValueError(f"{surface!r} maps to {value!r} here but to {known!r} at {origins[key]}")
    data.synonyms[key] = value
    origins.setdefault(key, where)


def _load_jsonl(path: Path) -> list[Example]:
    name = str(path)
    examples = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TrainingDataError(name, number, f"bad JSON: {exc.msg}") from None
        try:
            examples.append(_example_from_record(record))
        except ValueError as exc:
            raise TrainingDataError(name, number, str(exc)) from None
    return examples


def _example_from_record(record: object) -> Example:
    if not isinstance(record, dict):
        raise ValueError("each line must be a JSON object")
    text, intent = record.get("text"), record.get("intent")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    if not isinstance(intent, str) or not intent.strip():
        raise ValueError("'intent' must be a non-empty string")
    raw_entities = record.get("entities") or []
    if not isinstance(raw_entities, list):
        raise ValueError("'entities' must be a list")
    entities = []
    for entity in raw_entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("entity"), str):
            raise ValueError("each entity needs a string 'entity'")
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            raise ValueError(f"entity {entity['entity']!r} needs 'start' < 'end' within the text")
        value = entity.get("value", text[start:end])
        entities.append({"entity": entity["entity"], "value": str(value), "start": start, "end": end})
    return Example(text=text, intent=intent.strip(), entities=entities)
