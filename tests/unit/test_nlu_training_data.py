"""Reading Rasa NLU YAML and JSONL: annotations, offsets, synonyms, errors with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.errors import TrainingDataError
from bot.nlu import Example, load_examples, load_training_data, parse_annotated

NLU = """\
version: "3.1"
nlu:
- intent: reset_password
  examples: |
    - reset my [Outlook](system) password
    - reset my [S drive](system:shared drive) password please
    - [vpn]{"entity": "system", "value": "vpn"} password expired
    - I forgot my password

- intent: ticket_status
  examples: |
    - status of [HELP-12](ticket_key)
- synonym: outlook
  examples: |
    - email
    - MS Outlook
- regex: ticket_key
  examples: |
    - \\b[A-Z][A-Z0-9]{1,9}-\\d+\\b
- lookup: system
  examples: |
    - outlook
    - printer
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_annotation_forms_are_stripped_with_offsets() -> None:
    text, entities = parse_annotated('reset [Outlook](system) and [S drive](system:shared drive) or [v]{"entity": "x"}')
    assert text == "reset Outlook and S drive or v"
    assert entities == [
        {"entity": "system", "value": "Outlook", "start": 6, "end": 13},
        {"entity": "system", "value": "shared drive", "start": 18, "end": 25},
        {"entity": "x", "value": "v", "start": 29, "end": 30},
    ]
    for entity in entities:
        assert text[entity["start"] : entity["end"]] in {"Outlook", "S drive", "v"}


def test_text_without_annotations_is_unchanged() -> None:
    assert parse_annotated("my printer (2nd floor) is jammed: help!") == ("my printer (2nd floor) is jammed: help!", [])


@pytest.mark.parametrize("bad", ["reset [Outlook(system) password", "reset [Outlook](system password",
                                 "reset Outlook](system)", "[x]()", '[x]{"entity": }', '[x]{"value": "y"}'])
def test_malformed_annotations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_annotated(bad)


def test_load_file_reads_examples_synonyms_regexes_lookups(tmp_path: Path) -> None:
    data = load_training_data(write(tmp_path / "nlu.yml", NLU))
    assert data.intents == ["reset_password", "ticket_status"]
    assert [example.text for example in data.examples] == [
        "reset my Outlook password",
        "reset my S drive password please",
        "vpn password expired",
        "I forgot my password",
        "status of HELP-12",
    ]
    assert data.examples[1] == Example(
        text="reset my S drive password please",
        intent="reset_password",
        entities=[{"entity": "system", "value": "shared drive", "start": 9, "end": 16}],
    )
    assert data.examples[0].entities == [{"entity": "system", "value": "Outlook", "start": 9, "end": 16}]
    assert data.examples[3].entities == []
    assert data.synonyms == {"s drive": "shared drive", "email": "outlook", "ms outlook": "outlook"}
    assert data.regexes == {"ticket_key": [r"\b[A-Z][A-Z0-9]{1,9}-\d+\b"]}
    assert data.lookups == {"system": ["outlook", "printer"]}


def test_folder_is_read_recursively_and_test_is_excluded(tmp_path: Path) -> None:
    write(tmp_path / "accounts" / "nlu.yml", NLU)
    write(tmp_path / "core.yaml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n')
    write(tmp_path / "test" / "nlu.yml", 'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - bye\n')
    write(tmp_path / "notes.txt", "not yaml [at all")
    assert load_training_data(tmp_path).intents == ["greet", "reset_password", "ticket_status"]
    assert "goodbye" in load_training_data(tmp_path, exclude=()).intents
    assert [example.text for example in load_examples(tmp_path / "test")] == ["bye"]


def test_files_are_merged(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", 'nlu:\n- lookup: system\n  examples: |\n    - vpn\n')
    write(tmp_path / "b.yml",
          'nlu:\n- lookup: system\n  examples: |\n    - wifi\n- intent: greet\n  examples: |\n    - hi\n')
    data = load_training_data(tmp_path)
    assert data.lookups == {"system": ["vpn", "wifi"]}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n   bad: [\n', 6, "bad YAML"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  exmples: |\n    - hi\n', 4, "unknown key 'exmples'"),
        ('version: "3.1"\nstories:\n- story: x\n', 2, "unknown key 'stories'"),
        ('nlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n    hey\n', 6, "does not start with '- '"),
        ('nlu:\n- intent: greet\n  examples:\n    - hi\n', 4, "'|' block"),
        ('nlu:\n- intent: greet\n  examples: |\n    - hi\n\n    - reset [outlook(system)\n', 6, "unbalanced"),
        ('nlu:\n- intent: greet\n  examples: |\n    - hi\n    - [x]{"entity": nope}\n', 5, "bad JSON"),
        ('nlu:\n- intent: greet\n  synonym: x\n  examples: |\n    - hi\n', 2, "exactly one"),
        ('nlu:\n- regex: key\n  examples: |\n    - [A-Z\n', 4, "bad regular expression"),
        ('nlu:\n- synonym: a\n  examples: |\n    - x\n- synonym: b\n  examples: |\n    - X\n', 7, "maps to 'b'"),
    ],
)
def test_bad_file_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path / "skill" / "nlu.yml", text)
    with pytest.raises(TrainingDataError) as caught:
        load_training_data(tmp_path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no such file"):
        load_training_data(tmp_path / "nope")


def test_jsonl_examples(tmp_path: Path) -> None:
    lines = [
        {"text": "status of HELP-3", "intent": "ticket_status",
         "entities": [{"entity": "ticket_key", "value": "HELP-3", "start": 10, "end": 16}]},
        {"text": "hi", "intent": "greet"},
    ]
    path = write(tmp_path / "set.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n")
    assert load_examples(path) == [
        Example("status of HELP-3", "ticket_status",
                [{"entity": "ticket_key", "value": "HELP-3", "start": 10, "end": 16}]),
        Example("hi", "greet", []),
    ]


def test_jsonl_bad_line_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "set.jsonl", '{"text": "hi", "intent": "greet"}\n\n{"text": "bye", "intent": \n')
    with pytest.raises(TrainingDataError) as caught:
        load_examples(path)
    assert (caught.value.path, caught.value.line) == (str(path), 3)
    path = write(tmp_path / "set.jsonl", '{"text": "hi"}\n')
    with pytest.raises(TrainingDataError, match="'intent'"):
        load_examples(path)
