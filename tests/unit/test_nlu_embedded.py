"""The embedded parser on a small data set: Rasa's JSON shape, intents, entities, limits."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

import bot.nlu
from bot.core.errors import ConfigError
from bot.core.settings import load_settings
from bot.nlu import EmbeddedParser, Parser, TrainingData, build_parser, load_training_data
from bot.nlu.cli import nlu_app

NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello
    - hey there
    - good morning
    - hello bot
    - hiya
    - good afternoon
    - hey
- intent: goodbye
  examples: |
    - bye
    - goodbye
    - see you later
    - have a nice day
    - talk to you later
    - bye for now
    - see ya
- intent: reset_password
  examples: |
    - I forgot my password
    - reset my [outlook](system) password
    - can you reset my password for [VPN](system:vpn)
    - my password expired
    - I need a new password for [email](system:outlook)
    - password reset please
    - change my [wifi](system) password
    - forgot my password again
    - my password is not working
- intent: unlock_account
  examples: |
    - my account is locked
    - unlock my account
    - I am locked out of [outlook](system)
    - locked out of my [laptop](system)
    - too many login attempts, account locked
    - it says my account is locked out
    - please unlock me
- intent: ticket_status
  examples: |
    - what is the status of [HELP-123](ticket_key)
    - any update on ticket [HELP-42](ticket_key)
    - status of my ticket
    - is my ticket done yet
    - where is my request [IT-7](ticket_key)
    - check on my ticket
    - has anyone looked at my ticket
- intent: open_ticket
  examples: |
    - my [printer](system) is broken
    - the [shared drive](system) is not working
    - open a ticket for me
    - I need to report a problem with [teams](system)
    - [vpn](system) keeps disconnecting
    - my [S drive](system:shared drive) is gone
    - [outlook](system) crashes when I open it
    - something is wrong with my [laptop](system)
- intent: out_of_scope
  examples: |
    - what is the weather
    - tell me a joke
    - who won the game last night
    - order a pizza
    - what is the meaning of life
    - book me a flight to paris
    - sing a song
- synonym: shared drive
  examples: |
    - s drive
    - network drive
- synonym: outlook
  examples: |
    - email
    - ms outlook
- regex: ticket_key
  examples: |
    - \\b[A-Z][A-Z0-9]{1,9}-\\d+\\b
- lookup: system
  examples: |
    - outlook
    - vpn
    - wifi
    - printer
    - teams
    - shared drive
    - laptop
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> TrainingData:
    folder = tmp_path_factory.mktemp("intents")
    (folder / "nlu.yml").write_text(NLU, encoding="utf-8")
    return load_training_data(folder)


@pytest.fixture(scope="module")
def parser(data: TrainingData) -> EmbeddedParser:
    return EmbeddedParser.train(data)


def test_result_has_rasa_shape(parser: EmbeddedParser) -> None:
    result = parser.parse_text("reset my outlook password")
    assert set(result) == {"text", "intent", "entities", "intent_ranking"}
    assert result["text"] == "reset my outlook password"
    assert set(result["intent"]) == {"name", "confidence"}
    assert isinstance(result["intent"]["name"], str)
    assert type(result["intent"]["confidence"]) is float
    assert result["entities"] == [
        {"entity": "system", "value": "outlook", "start": 9, "end": 16, "extractor": "RegexEntityExtractor"}
    ]
    for score in result["intent_ranking"]:
        assert set(score) == {"name", "confidence"}
        assert isinstance(score["name"], str) and type(score["confidence"]) is float
    assert result["intent_ranking"][0] == result["intent"]


def test_parser_implements_the_port(parser: EmbeddedParser) -> None:
    assert isinstance(parser, Parser)
    assert parser.name == "embedded"
    assert parser.ready
    result = asyncio.run(parser.parse("hello there"))
    assert result == parser.parse_text("hello there")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello", "greet"),
        ("good morning bot", "greet"),
        ("bye, talk later", "goodbye"),
        ("I forgot my password for outlook", "reset_password"),
        ("my account got locked out", "unlock_account"),
        ("what's the status of HELP-9", "ticket_status"),
        ("the printer on floor 2 is broken", "open_ticket"),
        ("tell me a joke about the weather", "out_of_scope"),
    ],
)
def test_in_domain_messages_are_classified_confidently(parser: EmbeddedParser, text: str, intent: str) -> None:
    result = parser.parse_text(text)
    assert result["intent"]["name"] == intent
    assert result["intent"]["confidence"] > 0.5


@pytest.mark.parametrize(
    ("text", "intent"),
    [("FORGOT MY PASWORD", "reset_password"), ("acount is lockd", "unlock_account"), ("helo", "greet"),
     ("Whats The Status Of My Tiket", "ticket_status")],
)
def test_typos_and_case_do_not_matter_much(parser: EmbeddedParser, text: str, intent: str) -> None:
    assert parser.parse_text(text)["intent"]["name"] == intent


def test_gibberish_is_not_confident(parser: EmbeddedParser) -> None:
    result = parser.parse_text("qzxv wplk jjrtt")
    assert result["intent"]["name"] == "out_of_scope" or result["intent"]["confidence"] < 0.5


def test_ranking_is_sorted_and_sums_to_one(parser: EmbeddedParser) -> None:
    ranking = parser.parse_text("my vpn password expired")["intent_ranking"]
    assert len(ranking) == 7  # every intent, fewer than the limit of 10
    confidences = [score["confidence"] for score in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert {score["name"] for score in ranking} == set(parser.intents)


def test_entities_regex_lookup_synonym_and_offsets(parser: EmbeddedParser) -> None:
    text = "any news on help-77? My S Drive and MS Outlook are down, also the vpn"
    entities = parser.parse_text(text)["entities"]
    assert [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in entities] == [
        ("ticket_key", "HELP-77", "help-77"),
        ("system", "shared drive", "S Drive"),
        ("system", "outlook", "MS Outlook"),
        ("system", "vpn", "vpn"),
    ]
    assert all(e["extractor"] == "RegexEntityExtractor" for e in entities)


def test_longest_surface_wins_and_words_are_whole(parser: EmbeddedParser) -> None:
    entities = parser.parse_text("network drive; my printers; vpnx")["entities"]
    assert [(e["value"], e["start"], e["end"]) for e in entities] == [("shared drive", 0, 13), ("printer", 18, 26)]


def test_one_typo_in_a_long_surface_is_tolerated(parser: EmbeddedParser) -> None:
    entities = parser.parse_text("outlok will not open, and my labtop neither")["entities"]
    assert [(e["value"], e["start"], e["end"]) for e in entities] == [("outlook", 0, 6), ("laptop", 29, 35)]
    assert parser.parse_text("the vpm is slow")["entities"] == []  # too short to guess


def test_text_is_truncated_but_returned_whole(data: TrainingData) -> None:
    parser = EmbeddedParser.train(data, max_chars=60)
    text = "reset my outlook password " + "please " * 20 + "and the vpn too"
    result = parser.parse_text(text)
    assert result["text"] == text
    assert result["intent"]["name"] == "reset_password"
    assert [e["value"] for e in result["entities"]] == ["outlook"]


def test_empty_text_is_out_of_scope(parser: EmbeddedParser) -> None:
    for text in ("", "   \n"):
        assert parser.parse_text(text) == {
            "text": text,
            "intent": {"name": "out_of_scope", "confidence": 1.0},
            "entities": [],
            "intent_ranking": [{"name": "out_of_scope", "confidence": 1.0}],
        }


def test_training_is_deterministic(data: TrainingData, parser: EmbeddedParser) -> None:
    again = EmbeddedParser.train(data)
    text = "cant get into my account, pls help"
    assert again.parse_text(text) == parser.parse_text(text)


def test_one_intent_is_not_enough() -> None:
    with pytest.raises(ConfigError, match="at least two intents"):
        EmbeddedParser.train(TrainingData())


def test_build_parser_follows_settings(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(NLU, encoding="utf-8")
    parser = build_parser(load_settings(intents_dir=tmp_path, nlu_max_chars=200))
    assert parser.name == "embedded"
    assert asyncio.run(parser.parse("hi"))["intent"]["name"] == "greet"
    with pytest.raises(ConfigError, match="HELPDESK_NLU=rasa needs HELPDESK_RASA_URL"):
        build_parser(load_settings(intents_dir=tmp_path, nlu="rasa"))


def test_package_all_is_complete() -> None:
    public = {name for name, value in vars(bot.nlu).items()
              if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"}
    assert sorted(bot.nlu.__all__) == sorted(public)
    for name in bot.nlu.__all__:
        assert getattr(bot.nlu, name) is not None


def test_cli_parse_writes_one_json_line_per_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nlu.yml").write_text(NLU, encoding="utf-8")
    monkeypatch.setenv("HELPDESK_INTENTS_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_NLU", "embedded")
    outcome = CliRunner().invoke(nlu_app, ["parse"], input="hello\n\n   \nstatus of help-5\n")
    assert outcome.exit_code == 0, outcome.output
    lines = [json.loads(line) for line in outcome.stdout.splitlines()]
    assert [(line["text"], line["intent"]["name"]) for line in lines] == [
        ("hello", "greet"), ("status of help-5", "ticket_status")]
    assert lines[1]["entities"][0]["value"] == "HELP-5"


def test_cli_parse_fails_with_one_line_on_bad_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi [x(y)\n", encoding="utf-8")
    monkeypatch.setenv("HELPDESK_INTENTS_DIR", str(tmp_path))
    outcome = CliRunner().invoke(nlu_app, ["parse"], input="hi\n")
    assert outcome.exit_code == 1
    assert outcome.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nlu.yml'}:4: unbalanced or malformed entity annotation near 'hi [x(y)'; "
        "write [surface](entity), [surface](entity:value) or [surface]{\"entity\": ...}"]
