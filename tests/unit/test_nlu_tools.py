"""The NLU tools: evaluate --train/--plot/--report/--cross-validate, export-rasa, the benchmark corpora."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bench.nlu_benchmark import CORPORA_DIR
from bot.core.settings import PROJECT_ROOT
from bot.nlu import Example, TrainingData, export_rasa_project, load_training_data
from bot.nlu.cli import nlu_app
from bot.nlu.corpora import CORPORA, load_corpus, load_labelled
from bot.nlu.evaluate import cross_validate
from bot.nlu.rasa_export import annotate, project_fingerprint

NLU = """nlu:
- intent: greet
  examples: |
    - yo
    - hello bot
    - morning all
    - good evening
    - howdy
- intent: outage
  examples: |
    - is [email](system) down
    - [outlook]{"entity": "system", "value": "email"} is not working for anyone
    - is the [vpn](system) broken for everyone
    - nobody can reach [sharepoint](system)
    - is [teams](system) out
- synonym: email
  examples: |
    - outlook
- regex: ticket_key
  examples: |
    - \\bHELP-\\d+\\b
- lookup: system
  examples: |
    - email
    - vpn
"""

CORPUS = {
    "name": "Tiny", "lang": "en",
    "sentences": [
        {"text": "when is the next train to Garching", "intent": "DepartureTime", "training": True,
         "entities": [{"entity": "StationDest", "start": 6, "stop": 6, "text": "Garching"}]},
        {"text": "how do i get from Olympia to Garching", "intent": "FindConnection", "training": True,
         "entities": [{"entity": "StationStart", "start": 5, "stop": 5, "text": "Olympia"},
                      {"entity": "StationDest", "start": 7, "stop": 7, "text": "Garching"}]},
        {"text": "when is the next train to Olympia ?", "intent": "DepartureTime", "training": False, "entities": []},
    ],
}


@pytest.fixture
def intents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "intents"
    folder.mkdir()
    (folder / "nlu.yml").write_text(NLU, encoding="utf-8")
    monkeypatch.setenv("HELPDESK_INTENTS_DIR", str(folder))
    monkeypatch.setenv("HELPDESK_NLU", "embedded")
    monkeypatch.setenv("HELPDESK_NLU_CACHE_DIR", "")
    return folder


def test_export_round_trips_and_is_a_rasa_project(intents: Path, tmp_path: Path) -> None:
    """The exported data reads back as the same data; config and domain are what Rasa expects."""
    out = tmp_path / "rasa"
    outcome = CliRunner().invoke(nlu_app, ["export-rasa", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert "10 examples of 2 intents" in outcome.stdout
    original = load_training_data(intents)
    again = load_training_data(out / "data")
    assert (again.examples, again.synonyms, again.regexes) == (original.examples, original.synonyms, original.regexes)
    # Entities come from the lookups in Rasa, so they also hold every annotated surface.
    assert again.lookups == {"system": ["email", "vpn", "outlook", "sharepoint", "teams"]}
    config = yaml.safe_load((out / "config.yml").read_text(encoding="utf-8"))
    names = [step["name"] for step in config["pipeline"]]
    assert config["language"] == "en" and "DIETClassifier" in names and names[-1] == "FallbackClassifier"
    assert config["pipeline"][names.index("DIETClassifier")]["entity_recognition"] is False
    assert names.index("RegexEntityExtractor") < names.index("EntitySynonymMapper")
    domain = yaml.safe_load((out / "domain.yml").read_text(encoding="utf-8"))
    assert domain["intents"] == ["greet", "outage"] and domain["entities"] == ["system", "ticket_key"]
    first = project_fingerprint(out)
    export_rasa_project(original, out)
    assert project_fingerprint(out) == first


def test_annotate_writes_rasa_entity_syntax() -> None:
    example = Example("is Outlook down, see HELP-2", "outage", [
        {"entity": "system", "value": "email", "start": 3, "end": 10},
        {"entity": "ticket_key", "value": "HELP-2", "start": 21, "end": 27},
    ])
    assert annotate(example) == 'is [Outlook]{"entity": "system", "value": "email"} down, see [HELP-2](ticket_key)'


def test_cross_validation_predicts_each_example_once(intents: Path) -> None:
    data = load_training_data(intents)
    report = cross_validate(data, 5)
    assert report.total == 10
    assert sum(map(sum, report.matrix)) == 10
    assert report.labels == ["greet", "outage"]
    with pytest.raises(ValueError):
        cross_validate(data, 1)


def test_cli_cross_validate_plot_and_report(intents: Path, tmp_path: Path) -> None:
    """--plot writes a real PNG of the confusion matrix and --report the JSON report."""
    pytest.importorskip("matplotlib")
    png, report = tmp_path / "out" / "confusion.png", tmp_path / "report.json"
    outcome = CliRunner().invoke(nlu_app, ["evaluate", "--cross-validate", "3", "--plot", str(png),
                                           "--report", str(report)])
    assert outcome.exit_code == 0, outcome.output
    assert "macro-F1" in outcome.stdout and "Confidence of predictions" in outcome.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["total"] == 10 and len(data["matrix"]) == 2 and len(data["error_confidence"]) == 10


def test_cli_needs_file_or_cross_validation(intents: Path, tmp_path: Path) -> None:
    for arguments in ([], [str(tmp_path / "x.jsonl"), "--cross-validate", "3"]):
        outcome = CliRunner().invoke(nlu_app, ["evaluate", *arguments])
        assert outcome.exit_code == 1
        assert outcome.stderr.strip() == "error: give either FILE or --cross-validate K"
    outcome = CliRunner().invoke(nlu_app, ["evaluate", str(tmp_path / "missing.yml")])
    assert outcome.exit_code == 1 and "no such file or folder" in outcome.stderr


def test_cli_train_on_a_corpus_file(intents: Path, tmp_path: Path) -> None:
    """--train with a Braun et al. corpus trains on its train split; FILE scores its test split."""
    corpus = tmp_path / "TinyCorpus.json"
    corpus.write_text(json.dumps(CORPUS), encoding="utf-8")
    outcome = CliRunner().invoke(nlu_app, ["evaluate", str(corpus), "--train", str(corpus), "--json"])
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.stdout)
    assert report["total"] == 1 and report["labels"] == ["DepartureTime"] and report["accuracy"] == 1.0


def test_corpus_split_and_entity_offsets(tmp_path: Path) -> None:
    corpus = tmp_path / "TinyCorpus.json"
    corpus.write_text(json.dumps(CORPUS), encoding="utf-8")
    train, test = load_corpus(corpus)
    assert [e.intent for e in train.examples] == ["DepartureTime", "FindConnection"]
    assert [e.text for e in test] == ["when is the next train to Olympia ?"]
    entities = train.examples[1].entities
    assert [(e["entity"], train.examples[1].text[e["start"]:e["end"]]) for e in entities] == [
        ("StationStart", "Olympia"), ("StationDest", "Garching")]
    assert load_labelled(corpus, "test").examples == test
    (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
    with pytest.raises(Exception, match="not a Braun et al. corpus"):
        load_corpus(tmp_path / "bad.json")


def test_published_corpora_are_found_inside_the_repository() -> None:
    """The benchmark files are vendored, with their licence, checksums as the README lists, and the paper's split."""
    assert CORPORA_DIR.resolve().is_relative_to(PROJECT_ROOT.resolve())
    readme = (CORPORA_DIR / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, flags=re.MULTILINE)
    assert {name for _, name in listed} == {f"{name}Corpus.json" for name in CORPORA} | {"LICENSE",
                                                                                          "UPSTREAM-README.md"}
    for digest, name in listed:
        assert hashlib.sha256((CORPORA_DIR / name).read_bytes()).hexdigest() == digest, name
    assert "Attribution-ShareAlike 3.0" in (CORPORA_DIR / "LICENSE").read_text(encoding="utf-8")
    splits = {name: load_corpus(CORPORA_DIR / f"{name}Corpus.json") for name in CORPORA}
    sizes = {name: (len(train.examples), len(test)) for name, (train, test) in splits.items()}
    assert sizes == {"AskUbuntu": (53, 109), "WebApplications": (30, 59), "Chatbot": (100, 106)}


def test_nothing_reads_the_corpora_from_outside_the_repository() -> None:
    """No benchmark, test, Makefile or README points at a corpora folder beside the checkout."""
    paths = [*(PROJECT_ROOT / "bench").glob("*.py"), *(PROJECT_ROOT / "tests").rglob("*.py"),
             PROJECT_ROOT / "Makefile", PROJECT_ROOT / "README.md"]
    paths.remove(Path(__file__).resolve())
    assert not [path for path in paths if "shared/benchmarks" in path.read_text(encoding="utf-8")]


def test_empty_training_data_still_exports(tmp_path: Path) -> None:
    written = export_rasa_project(TrainingData(), tmp_path)
    assert yaml.safe_load((tmp_path / "domain.yml").read_text(encoding="utf-8"))["entities"] == []
    assert len(written) == 3
