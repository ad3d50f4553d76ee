"""Write a Rasa 3.x NLU project from our training data, ready for ``rasa train nlu``.

The project is ``config.yml`` (a DIET pipeline with a FallbackClassifier),
``domain.yml`` (the intents and entities) and ``data/nlu.yml`` (every
example with its entity annotations, the synonyms, regexes and lookups; the
lookups also list each annotated surface, since entities come from them).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from bot.core.parse import Example
from bot.nlu.training_data import TrainingData

__all__ = ["CONFIG_YML", "FALLBACK_THRESHOLD", "export_rasa_project", "project_fingerprint"]

FALLBACK_THRESHOLD = 0.3

# The Rasa 3.x default pipeline, with the changes our data needs: DIET
# classifies intents only, and entities come from the regexes and lookups
# (case-insensitive), as in the embedded parser; the lookups carry every
# annotated surface too. Learned entities tagged the odd word ("I") as a
# system with 0.99 confidence. The synonym mapper runs after the extractor,
# and the router asks "which did you mean?" itself, so Rasa's own ambiguity
# fallback is kept small.
CONFIG_YML = f"""\
# Written by `helpdesk nlu export-rasa`; train with `rasa train nlu`.
recipe: default.v1
language: en
assistant_id: civic-helpdesk
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
    case_sensitive: false
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
    entity_recognition: false
    random_seed: 1
  - name: RegexEntityExtractor
    case_sensitive: false
    use_lookup_tables: true
    use_regexes: true
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: {FALLBACK_THRESHOLD}
    ambiguity_threshold: 0.02
policies: []
"""


def export_rasa_project(data: TrainingData, folder: Path) -> list[Path]:
    """Write the project into ``folder`` (created if needed); returns the files written."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    files = {
        folder / "config.yml": CONFIG_YML,
        folder / "domain.yml": _domain(data),
        folder / "data" / "nlu.yml": _nlu(data),
    }
    for path, content in files.items():
        path.write_text(content, encoding="utf-8")
    return list(files)


def project_fingerprint(folder: Path) -> str:
    """A short hash of an exported project's files: the key of a trained model in a cache."""
    digest = hashlib.sha256()
    for name in ("config.yml", "domain.yml", "data/nlu.yml"):
        digest.update(name.encode())
        digest.update((Path(folder) / name).read_bytes())
    return digest.hexdigest()[:20]


def _domain(data: TrainingData) -> str:
    entities = sorted({e["entity"] for example in data.examples for e in example.entities}
                      | set(data.lookups) | set(data.regexes))
    lines = ['version: "3.1"', "intents:"]
    lines += [f"  - {_scalar(intent)}" for intent in data.intents]
    lines.append("entities:" if entities else "entities: []")
    lines += [f"  - {_scalar(entity)}" for entity in entities]
    return "\n".join(lines) + "\n"


def _nlu(data: TrainingData) -> str:
    lines = ['version: "3.1"', "nlu:"]
    by_intent: dict[str, list[Example]] = {}
    for example in data.examples:
        by_intent.setdefault(example.intent, []).append(example)
    for intent, examples in by_intent.items():
        lines += [f"- intent: {_scalar(intent)}", "  examples: |"]
        lines += [f"    - {annotate(example)}" for example in examples]
    synonyms: dict[str, list[str]] = {}
    for surface, value in data.synonyms.items():
        synonyms.setdefault(value, []).append(surface)
    for value, surfaces in synonyms.items():
        lines += [f"- synonym: {_scalar(value)}", "  examples: |"] + [f"    - {s}" for s in surfaces]
    for name, patterns in data.regexes.items():
        lines += [f"- regex: {_scalar(name)}", "  examples: |"] + [f"    - {p}" for p in patterns]
    for name, values in _lookups(data).items():
        lines += [f"- lookup: {_scalar(name)}", "  examples: |"] + [f"    - {v}" for v in values]
    return "\n".join(lines) + "\n"


def _lookups(data: TrainingData) -> dict[str, list[str]]:
    """The lookup tables plus every annotated surface of a non-regex entity (each once, in order)."""
    tables = {name: list(dict.fromkeys(values)) for name, values in data.lookups.items()}
    for example in data.examples:
        for entity in example.entities:
            if entity["entity"] in data.regexes:
                continue
            surface = example.text[entity["start"] : entity["end"]]
            values = tables.setdefault(entity["entity"], [])
            if surface not in values:
                values.append(surface)
    return tables


def annotate(example: Example) -> str:
    """The example's text with Rasa entity annotations: ``[surface](entity)`` or ``[surface]{json}``."""
    text = example.text
    parts: list[str] = []
    position = 0
    for entity in sorted(example.entities, key=lambda e: e["start"]):
        start, end = entity["start"], entity["end"]
        surface = text[start:end]
        parts.append(text[position:start])
        parts.append(f"[{surface}]{_target(entity, surface)}")
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _target(entity: dict[str, Any], surface: str) -> str:
    if str(entity["value"]) == surface:
        return f"({entity['entity']})"
    return json.dumps({"entity": entity["entity"], "value": str(entity["value"])}, ensure_ascii=False)


def _scalar(value: str) -> str:
    """A YAML scalar: plain when safe, quoted otherwise (intent names like "Make Update" stay plain)."""
    return value if value.replace("_", "").replace(" ", "").replace("-", "").isalnum() else json.dumps(value)
