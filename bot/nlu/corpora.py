"""Read the NLU evaluation corpora of Braun et al. (2017): AskUbuntu, WebApplications and Chatbot.

Each file is ``{"name", "sentences": [...]}``; a sentence has ``text``,
``intent``, ``entities`` (token indices ``start``/``stop`` and their
``text``) and ``training`` (True for the train split, False for the test
split). Entities become character offsets so they score like ours.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.core.errors import ConfigError
from bot.core.parse import Example
from bot.nlu.training_data import TrainingData, load_examples, load_training_data

__all__ = ["CORPORA", "load_corpus", "load_labelled"]

CORPORA = ("AskUbuntu", "WebApplications", "Chatbot")

_TOKEN = re.compile(r"\S+")


def load_corpus(path: Path) -> tuple[TrainingData, list[Example]]:
    """The train split (as training data) and the test split of one corpus file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        sentences = document["sentences"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a Braun et al. corpus file ({exc})") from None
    train, test = TrainingData(), []
    for sentence in sentences:
        example = Example(sentence["text"], sentence["intent"], _entities(sentence))
        if sentence.get("training"):
            train.examples.append(example)
        else:
            test.append(example)
    return train, test


def load_labelled(path: Path, split: str) -> TrainingData:
    """Labelled data from any file ``helpdesk nlu evaluate`` takes.

    A ``.json`` file is a Braun et al. corpus, of which ``split`` (``train``
    or ``test``) is taken; a Rasa YAML file or folder keeps its synonyms,
    regexes and lookups; a JSONL file has examples only.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        train, test = load_corpus(path)
        return train if split == "train" else TrainingData(examples=test)
    if path.is_file() and path.suffix.lower() in (".jsonl", ".ndjson"):
        return TrainingData(examples=load_examples(path))
    if not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    return load_training_data(path, exclude=())


def _entities(sentence: dict[str, Any]) -> list[dict[str, Any]]:
    """Character-offset entities; an entity whose text is not found at its tokens is searched in the text."""
    text = sentence["text"]
    tokens = [match.span() for match in _TOKEN.finditer(text)]
    found = []
    for entity in sentence.get("entities", []):
        surface = str(entity.get("text", ""))
        start = text.find(surface) if surface else -1
        first, last = int(entity.get("start", -1)), int(entity.get("stop", -1))
        if 0 <= first <= last < len(tokens) and text[tokens[first][0] : tokens[last][1]].strip(".,?!") == surface:
            start = tokens[first][0]
        if start < 0:
            continue
        found.append({"entity": entity["entity"], "value": surface, "start": start, "end": start + len(surface)})
    return found
