"""Score a parser against labelled examples: intent P/R/F1, confusions, entities."""

from __future__ import annotations

import asyncio
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.core.parse import Example, Parser, ParseResult
from bot.nlu.training_data import TrainingData

__all__ = ["Confusion", "EvaluationReport", "PerIntent", "Scores", "close_parser", "cross_validate", "evaluate",
           "score_predictions"]

HISTOGRAM_BINS = 10
MAX_CONFUSIONS = 15
MAX_CONFUSION_TEXTS = 3


@dataclass
class Scores:
    """Precision, recall and F1 of one class or one kind of match; ``support`` is the gold count."""

    precision: float
    recall: float
    f1: float
    support: int

    @classmethod
    def from_counts(cls, true_positives: int, predicted: int, actual: int) -> Scores:
        """Build from counts; a ratio with a zero denominator is 0.0."""
        precision = true_positives / predicted if predicted else 0.0
        recall = true_positives / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, actual)


@dataclass
class PerIntent:
    """The scores of one intent."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Confusion:
    """How often gold intent ``gold`` was predicted as ``predicted``, with a few texts."""

    gold: str
    predicted: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass
class EvaluationReport:
    """The result of ``evaluate``: intent and entity scores of one parser on one set.

    ``macro_f1`` averages the intents of the gold set; ``micro_f1`` equals
    ``accuracy`` (one label per message). Entity scores count a predicted
    entity right when entity, value (case-insensitive) and span match
    (``entities_exact``) or when entity and value match (``entities_value``).
    ``error_confidence`` and ``correct_confidence`` are 10-bin histograms of the
    top intent's confidence (0.0-0.1, ..., 0.9-1.0). ``matrix[i][j]`` counts
    messages of gold intent ``labels[i]`` predicted as ``labels[j]``.
    """

    total: int
    accuracy: float
    macro_f1: float
    micro_f1: float
    intents: list[PerIntent]
    confusions: list[Confusion]
    entities_exact: Scores
    entities_value: Scores
    entities_by_type: dict[str, Scores]
    error_confidence: list[int]
    correct_confidence: list[int]
    labels: list[str] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return asdict(self)

    def render(self, console: Console) -> None:
        """Print the report as tables."""
        console.print(f"[bold]{self.total}[/] examples   accuracy [bold]{self.accuracy:.3f}[/]   "
                      f"macro-F1 [bold]{self.macro_f1:.3f}[/]   micro-F1 [bold]{self.micro_f1:.3f}[/]")
        intents = Table("intent", "precision", "recall", "F1", "support", title="Intents")
        for score in self.intents:
            style = "red" if score.f1 < 0.9 else None
            intents.add_row(score.name, f"{score.precision:.3f}", f"{score.recall:.3f}", f"{score.f1:.3f}",
                            str(score.support), style=style)
        console.print(intents)
        if self.confusions:
            confusions = Table("gold", "predicted", "count", "examples", title="Most confused")
            for pair in self.confusions:
                confusions.add_row(pair.gold, pair.predicted, str(pair.count), " | ".join(pair.examples))
            console.print(confusions)
        entities = Table("entities", "precision", "recall", "F1", "support", title="Entities")
        rows = [("all (exact span)", self.entities_exact), ("all (value only)", self.entities_value)]
        rows += [(f"{name} (exact span)", score) for name, score in sorted(self.entities_by_type.items())]
        for label, entity_scores in rows:
            entities.add_row(label, f"{entity_scores.precision:.3f}", f"{entity_scores.recall:.3f}",
                             f"{entity_scores.f1:.3f}", str(entity_scores.support))
        console.print(entities)
        histogram = Table("confidence", "errors", "correct", title="Confidence of predictions")
        for index, (errors, correct) in enumerate(zip(self.error_confidence, self.correct_confidence, strict=True)):
            low, high = index / HISTOGRAM_BINS, (index + 1) / HISTOGRAM_BINS
            histogram.add_row(f"{low:.1f}-{high:.1f}", str(errors), str(correct))
        console.print(histogram)


def evaluate(parser: Parser, examples: Sequence[Example]) -> EvaluationReport:
    """Parse every example with ``parser`` and score the results.

    Call it from synchronous code (it runs its own event loop).
    """

    return score_predictions(examples, asyncio.run(_parse_all(parser, examples)))


def score_predictions(examples: Sequence[Example], results: Sequence[ParseResult]) -> EvaluationReport:
    """Score parse ``results`` against the gold ``examples`` (same order, same length)."""
    if len(examples) != len(results):
        raise ValueError(f"{len(examples)} examples but {len(results)} results")
    gold = [example.intent for example in examples]
    predicted = [result["intent"]["name"] for result in results]
    labels = sorted(set(gold) | set(predicted))
    pairs = Counter(zip(gold, predicted, strict=True))
    intents = []
    for label in labels:
        true_positives = pairs[(label, label)]
        score = Scores.from_counts(true_positives, predicted.count(label), gold.count(label))
        intents.append(PerIntent(label, score.precision, score.recall, score.f1, score.support))
    gold_labels = [score for score in intents if score.support]
    correct = sum(pairs[(label, label)] for label in labels)
    accuracy = correct / len(examples) if examples else 0.0
    return EvaluationReport(
        total=len(examples),
        accuracy=accuracy,
        macro_f1=sum(score.f1 for score in gold_labels) / len(gold_labels) if gold_labels else 0.0,
        micro_f1=accuracy,
        intents=intents,
        confusions=_confusions(examples, predicted),
        entities_exact=_entity_scores(examples, results, exact=True),
        entities_value=_entity_scores(examples, results, exact=False),
        entities_by_type=_entity_scores_by_type(examples, results),
        error_confidence=_histogram(r["intent"]["confidence"] for e, r in zip(examples, results, strict=True)
                                    if e.intent != r["intent"]["name"]),
        correct_confidence=_histogram(r["intent"]["confidence"] for e, r in zip(examples, results, strict=True)
                                      if e.intent == r["intent"]["name"]),
        labels=labels,
        matrix=[[pairs[(row, column)] for column in labels] for row in labels],
    )


def _confusions(examples: Sequence[Example], predicted: list[str]) -> list[Confusion]:
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for example, guess in zip(examples, predicted, strict=True):
        if example.intent != guess:
            texts[(example.intent, guess)].append(example.text)
    ordered = sorted(texts.items(), key=lambda item: (-len(item[1]), item[0]))
    return [Confusion(gold, guess, len(found), found[:MAX_CONFUSION_TEXTS])
            for (gold, guess), found in ordered[:MAX_CONFUSIONS]]


def _entity_key(entity: Mapping[str, Any], exact: bool) -> tuple[Any, ...]:
    value = str(entity["value"]).casefold()
    return (entity["entity"], value, entity["start"], entity["end"]) if exact else (entity["entity"], value)


def _entity_scores(examples: Sequence[Example], results: Sequence[ParseResult], exact: bool,
                   only: str | None = None) -> Scores:
    matched = predicted_total = gold_total = 0
    for example, result in zip(examples, results, strict=True):
        gold = Counter(_entity_key(e, exact) for e in example.entities if only in (None, e["entity"]))
        found = Counter(_entity_key(e, exact) for e in result["entities"] if only in (None, e["entity"]))
        matched += sum((gold & found).values())
        gold_total += sum(gold.values())
        predicted_total += sum(found.values())
    return Scores.from_counts(matched, predicted_total, gold_total)


def _entity_scores_by_type(examples: Sequence[Example], results: Sequence[ParseResult]) -> dict[str, Scores]:
    names = {e["entity"] for example in examples for e in example.entities}
    names |= {e["entity"] for result in results for e in result["entities"]}
    return {name: _entity_scores(examples, results, exact=True, only=name) for name in sorted(names)}


def _histogram(confidences: Iterable[float]) -> list[int]:
    bins = [0] * HISTOGRAM_BINS
    for confidence in confidences:
        bins[min(int(confidence * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    return bins


def cross_validate(data: TrainingData, folds: int,
                   train: Callable[[TrainingData], Parser] | None = None, seed: int = 0) -> EvaluationReport:
    """Score ``folds``-fold stratified cross-validation on ``data``: each example is predicted once,
    by a parser trained (``train``, the embedded parser by default) on the other folds.

    Lookups, synonyms and regexes are shared by every fold; only the examples are split.
    """
    from sklearn.model_selection import StratifiedKFold

    from bot.nlu.embedded import EmbeddedParser

    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    train = train or EmbeddedParser.train
    examples = data.examples
    labels = [example.intent for example in examples]
    results: list[ParseResult | None] = [None] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(labels, labels))
    for train_index, test_index in splits:
        fold = TrainingData([examples[i] for i in train_index], data.synonyms, data.regexes, data.lookups)
        parser = train(fold)
        held_out = [examples[i] for i in test_index]
        report_results = asyncio.run(_parse_all(parser, held_out))
        for index, result in zip(test_index, report_results, strict=True):
            results[index] = result
    return score_predictions(examples, [result for result in results if result is not None])


async def _parse_all(parser: Parser, examples: Sequence[Example]) -> list[ParseResult]:
    results = [await parser.parse(example.text) for example in examples]
    await close_parser(parser)
    return results


async def close_parser(parser: Parser) -> None:
    """Release what ``parser`` holds in this event loop (the Rasa adapter's HTTP session), if anything."""
    close = getattr(parser, "close", None)
    if close is not None:
        await close()
