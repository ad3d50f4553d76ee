"""Scoring: a known confusion gives known precision, recall and F1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.nlu import EmbeddedParser, Example, ParseResult, evaluate, load_training_data, score_predictions
from bot.nlu.cli import nlu_app

GOLD = [
    Example("open outlook", "a", [{"entity": "system", "value": "outlook", "start": 5, "end": 12}]),
    Example("ticket is HELP-1", "a", [{"entity": "ticket_key", "value": "HELP-1", "start": 10, "end": 16}]),
    Example("vpn down", "a", []),
    Example("b one", "b", []),
    Example("b two", "b", []),
    Example("c one", "c", []),
]
# (predicted intent, confidence, entities): 4 right, a->b once, c->a once.
PREDICTED = [
    ("a", 0.90, [{"entity": "system", "value": "Outlook", "start": 5, "end": 12}]),
    ("a", 1.00, [{"entity": "ticket_key", "value": "HELP-1", "start": 9, "end": 16}]),
    ("b", 0.55, [{"entity": "system", "value": "vpn", "start": 0, "end": 3}]),
    ("b", 0.05, []),
    ("b", 0.30, []),
    ("a", 0.95, []),
]


class TableParser:
    """A Parser that answers from a fixed table (text -> result)."""

    name = "table"
    ready = True

    def __init__(self, table: dict[str, ParseResult]) -> None:
        self.table = table

    async def parse(self, text: str) -> ParseResult:
        return self.table[text]


def results() -> list[ParseResult]:
    made = []
    for example, (intent, confidence, entities) in zip(GOLD, PREDICTED, strict=True):
        score = {"name": intent, "confidence": confidence}
        made.append({"text": example.text, "intent": score, "intent_ranking": [score],
                     "entities": [{**entity, "extractor": "test"} for entity in entities]})
    return made  # type: ignore[return-value]


def test_known_confusion_gives_known_scores() -> None:
    report = evaluate(TableParser({r["text"]: r for r in results()}), GOLD)
    assert report.total == 6
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.micro_f1 == pytest.approx(4 / 6)
    by_name = {score.name: score for score in report.intents}
    assert (by_name["a"].precision, by_name["a"].recall, by_name["a"].f1, by_name["a"].support) == pytest.approx(
        (2 / 3, 2 / 3, 2 / 3, 3))
    assert (by_name["b"].precision, by_name["b"].recall, by_name["b"].f1, by_name["b"].support) == pytest.approx(
        (2 / 3, 1.0, 0.8, 2))
    assert (by_name["c"].precision, by_name["c"].recall, by_name["c"].f1, by_name["c"].support) == (0.0, 0.0, 0.0, 1)
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8 + 0.0) / 3)
    assert [(c.gold, c.predicted, c.count, c.examples) for c in report.confusions] == [
        ("a", "b", 1, ["vpn down"]),
        ("c", "a", 1, ["c one"]),
    ]


def test_entity_scores_exact_and_value_only() -> None:
    report = score_predictions(GOLD, results())
    # exact: only "outlook" matches (values compare case-insensitively); HELP-1's span is off by one.
    exact = report.entities_exact
    assert (exact.precision, exact.recall, exact.support) == pytest.approx((1 / 3, 1 / 2, 2))
    assert exact.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    value = report.entities_value
    assert (value.precision, value.recall, value.f1) == pytest.approx((2 / 3, 1.0, 0.8))
    assert report.entities_by_type["ticket_key"].recall == 0.0
    assert report.entities_by_type["system"].precision == pytest.approx(1 / 2)


def test_confidence_histograms() -> None:
    report = score_predictions(GOLD, results())
    assert report.error_confidence == [0, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert report.correct_confidence == [1, 0, 0, 1, 0, 0, 0, 0, 0, 2]


def test_report_is_json_and_renders() -> None:
    report = score_predictions(GOLD, results())
    data = json.loads(json.dumps(report.to_dict()))
    assert data["macro_f1"] == pytest.approx(report.macro_f1)
    assert data["confusions"][0] == {"gold": "a", "predicted": "b", "count": 1, "examples": ["vpn down"]}
    console = Console(record=True, width=140)
    report.render(console)
    text = console.export_text()
    assert "macro-F1 0.489" in text
    assert "vpn down" in text and "Most confused" in text


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        score_predictions(GOLD, results()[:2])


def test_perfect_on_its_own_training_data(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'nlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n    - hey\n'
        '- intent: bye\n  examples: |\n    - bye\n    - goodbye\n    - see you\n', encoding="utf-8")
    data = load_training_data(tmp_path)
    report = evaluate(EmbeddedParser.train(data), data.examples)
    assert report.accuracy == 1.0 and report.macro_f1 == 1.0 and report.confusions == []


def test_cli_evaluate_json_and_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    intents = tmp_path / "intents"
    intents.mkdir()
    (intents / "nlu.yml").write_text(
        'nlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n    - hey\n'
        '- intent: bye\n  examples: |\n    - bye\n    - goodbye\n    - see you\n', encoding="utf-8")
    monkeypatch.setenv("HELPDESK_INTENTS_DIR", str(intents))
    monkeypatch.setenv("HELPDESK_NLU", "embedded")
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "hello", "intent": "greet"}\n{"text": "goodbye", "intent": "bye"}\n', encoding="utf-8")
    outcome = CliRunner().invoke(nlu_app, ["evaluate", str(gold), "--json"])
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.stdout)
    assert (report["total"], report["accuracy"], report["macro_f1"]) == (2, 1.0, 1.0)
    gold.write_text('{"text": "hello", "intent": "greet"}\n{"text": \n', encoding="utf-8")
    outcome = CliRunner().invoke(nlu_app, ["evaluate", str(gold)])
    assert outcome.exit_code == 1
    assert outcome.stderr.strip() == f"error: {gold}:2: bad JSON: Expecting value"
