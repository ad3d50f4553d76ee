"""What a message says beyond its intent: a security matter, or public-facing work that has stopped.

"someone broke into my car and took my city laptop" is a security matter
whatever the request around it; "error 500 and residents are waiting at the
counter" is urgent although it never says so. These readings come from
meaning, not from a list of words: a second small classifier, trained like the
intents (the embedded parser's features and model) on labelled examples kept
in ``intents/signals/`` in Rasa NLU YAML. Each label's ``metadata`` says what
it means::

    - intent: lost_device
      metadata: {kind: security, urgency: urgent, reason: a city device was lost or stolen}
      examples: |
        - left the work tablet on the train ...

``kind`` is ``security`` (the technicians are alerted as a security matter) or
``urgency`` (the ticket's urgency is raised); the label ``none`` holds ordinary
messages and has no metadata. A message signals a kind when the labels of that
kind together reach ``threshold``; the likeliest of them gives the reason. The
reader runs whichever NLU is configured (a Rasa server too), and its model is
cached like the intents' model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core.errors import TrainingDataError
from bot.core.parse import Example
from bot.core.yaml_files import safe_load
from bot.nlu.embedded import EmbeddedParser
from bot.nlu.training_data import TrainingData, load_training_data

__all__ = ["ALONE", "NONE", "SURE", "Signal", "SignalLabel", "SignalReader"]

NONE = "none"
THRESHOLD = 0.5
SURE = 0.9
"""Confidence at which a signal may change the course of a flow that already handles it (a phishing report)."""
ALONE = 0.8
"""Confidence at which a signal stands for a message the parser is unsure of, whatever the parser ranks."""
MAX_CHARS = 1000
# A line whose visible characters are less than this share letters is pasted output (a log, a table).
PROSE_LETTERS = 0.6
SignalKind = Literal["security", "urgency"]
_KINDS = ("security", "urgency")
_URGENCIES = ("high", "urgent")


@dataclass(frozen=True)
class SignalLabel:
    """One thing a message can signal, as ``intents/signals/`` describes it."""

    name: str
    kind: SignalKind
    urgency: str
    reason: str


@dataclass(frozen=True)
class Signal:
    """What one message signals, and how sure the classifier is."""

    label: SignalLabel
    confidence: float

    @property
    def security(self) -> bool:
        """True for a security matter (a lost device, a compromise, impersonation)."""
        return self.label.kind == "security"

    @property
    def note(self) -> str:
        """The line a ticket carries about it: "Marked urgent: customers are waiting at the counter"."""
        return f"Marked {self.label.urgency}: {self.label.reason}"


class SignalReader:
    """Reads the security and urgency signal of a message."""

    def __init__(self, parser: EmbeddedParser, labels: dict[str, SignalLabel], threshold: float = THRESHOLD) -> None:
        self._parser = parser
        self.labels = labels
        self.threshold = threshold

    @classmethod
    def train(cls, folder: Path, cache_dir: Path | None = None, threshold: float = THRESHOLD,
              intents: TrainingData | None = None) -> SignalReader:
        """Train on the labelled examples under ``folder`` (raises ``TrainingDataError`` for a bad file).

        The ``none`` label's ``metadata: {also: [intent, ...]}`` names intents of ``intents`` whose
        examples are ordinary messages too ("yes", "thanks", "talk to a person").
        """
        data = load_training_data(folder, exclude=())
        labels, also = _labels(folder)
        if intents is not None:
            data.examples += [Example(text=e.text, intent=NONE) for e in intents.examples if e.intent in also]
        missing = sorted(set(data.intents) - set(labels) - {NONE})
        if missing:
            raise TrainingDataError(str(folder), None, f"signal labels without metadata (kind, reason): "
                                    f"{', '.join(missing)}")
        if NONE not in data.intents:
            raise TrainingDataError(str(folder), None, f"the signal examples need a '{NONE}' label for ordinary "
                                                       "messages")
        return cls(EmbeddedParser.train(data, max_chars=MAX_CHARS, cache_dir=cache_dir), labels, threshold)

    def read(self, text: str) -> Signal | None:
        """The signal of ``text``, or None when it reads as an ordinary message."""
        prose = _prose(text)
        if not prose:
            return None
        ranking = self._parser.parse_text(prose)["intent_ranking"]
        top = next((self.labels[r["name"]] for r in ranking if r["name"] in self.labels), None)
        if top is None:
            return None
        # Sure of the kind is enough: "payments" or "counter" are both urgent when the classifier hesitates.
        confidence = sum(r["confidence"] for r in ranking
                         if r["name"] in self.labels and self.labels[r["name"]].kind == top.kind)
        return Signal(top, float(confidence)) if confidence >= self.threshold else None


def _prose(text: str) -> str:
    """What the person wrote, without pasted logs: error codes and timestamps signal nothing."""
    lines = []
    for line in text.splitlines():
        visible = "".join(line.split())
        if visible and sum(ch.isalpha() for ch in visible) >= PROSE_LETTERS * len(visible):
            lines.append(line.strip())
    return " ".join(lines)[:MAX_CHARS]


def _labels(folder: Path) -> tuple[dict[str, SignalLabel], set[str]]:
    """The labels' metadata from every YAML file under ``folder``, and the intents ``none`` also takes."""
    labels: dict[str, SignalLabel] = {}
    also: set[str] = set()
    files = [folder] if folder.is_file() else sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")])
    for path in files:
        for item in (safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            name = str(item.get("intent") or "")
            meta = item.get("metadata")
            if name == NONE and isinstance(meta, dict):
                also |= {str(intent) for intent in meta.get("also") or []}
            if not name or name == NONE or meta is None:
                continue
            kind, urgency, reason = meta.get("kind"), str(meta.get("urgency", "urgent")), meta.get("reason")
            if kind not in _KINDS or urgency not in _URGENCIES or not str(reason or "").strip():
                raise TrainingDataError(str(path), None, f"signal {name!r} needs metadata kind (security or "
                                        "urgency), urgency (high or urgent) and a reason")
            labels[name] = SignalLabel(name, kind, urgency, str(reason).strip())
    return labels, also
