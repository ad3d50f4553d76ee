"""The contract every ``Parser`` keeps, checked against each implementation.

``CASES`` are messages any decent model of ``intents/`` gets right; the
checks are on the shape of the answer (Rasa's ``/model/parse`` JSON) and on
the intent and entities. ``RECORDED_TEXTS`` are the messages whose real Rasa
answers ``tests/data/rasa_replay.json`` holds (``python -m tests.servers.rasa_live record``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from bot.core.parse import ParseResult

__all__ = ["CASES", "RECORDED_TEXTS", "Case", "check_case", "check_shape"]


@dataclass(frozen=True)
class Case:
    """A message, the intent it must get, and entities (entity, value) it must carry."""

    text: str
    intent: str
    entities: tuple[tuple[str, str], ...] = field(default=())


CASES = [
    Case("I forgot my password", "reset_password"),
    Case("my password expired, can you reset it", "reset_password"),
    Case("my account is locked", "unlock_account"),
    Case("I'm locked out of my computer after too many attempts", "unlock_account"),
    Case("what is the status of HELP-1042", "ticket_status", (("ticket_key", "HELP-1042"),)),
    Case("the printer on the 2nd floor keeps jamming", "open_ticket"),
    Case("is outlook down for everyone?", "outage_status", (("system", "outlook"),)),
    Case("how do I connect to the vpn from home", "howto", (("system", "vpn"),)),
    Case("I got a suspicious email asking for my password", "report_phishing"),
    Case("hello", "greet"),
    Case("thanks a lot", "thanks"),
    Case("can I talk to a real person", "human_handoff"),
]

# Texts whose real Rasa answers are recorded: the cases, plus odd inputs the
# adapter must survive (punctuation only, a long line, unicode).
RECORDED_TEXTS = [case.text for case in CASES] + [
    "???",
    "my parking ticket has the wrong plate number",
    "what's for lunch in the cafeteria today",
    "Büro-Drucker druckt nicht 🙂",
    "help " * 60,
]


def check_shape(result: ParseResult, text: str) -> None:
    """The answer has Rasa's parse shape and is internally consistent."""
    assert set(result) >= {"text", "intent", "entities", "intent_ranking"}
    assert result["text"] == text
    intent = result["intent"]
    assert isinstance(intent["name"], str) and intent["name"]
    assert 0.0 <= intent["confidence"] <= 1.0
    ranking = result["intent_ranking"]
    assert ranking and ranking[0]["name"] == intent["name"]
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    spans = []
    for entity in result["entities"]:
        assert set(entity) >= {"entity", "value", "start", "end", "extractor"}
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        spans.append((entity["start"], entity["end"]))
    assert spans == sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(spans))


def check_case(result: ParseResult, case: Case) -> None:
    """The answer to ``case.text`` has its intent and entities."""
    check_shape(result, case.text)
    assert result["intent"]["name"] == case.intent, (case.text, result["intent_ranking"][:3])
    found = {(e["entity"], str(e["value"]).lower()) for e in result["entities"]}
    for entity, value in case.entities:
        assert (entity, value.lower()) in found, (case.text, result["entities"])
