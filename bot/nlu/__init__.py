"""Natural-language understanding: text in, Rasa-shaped ``ParseResult`` out.

The ``Parser`` port has an embedded implementation (scikit-learn, trained at
start-up from ``intents/``) and a Rasa server adapter that falls back to it;
``build_parser`` picks the one the settings name (the adapter, ``bot.nlu.rasa_http``,
is imported only then: aiohttp is memory a console never needs).
The ``helpdesk nlu`` commands live in ``bot.nlu.cli``.
"""

from __future__ import annotations

from bot.core.parse import Entity, Example, IntentScore, Parser, ParseResult
from bot.nlu.embedded import EmbeddedParser
from bot.nlu.evaluate import EvaluationReport, evaluate, score_predictions
from bot.nlu.factory import build_parser
from bot.nlu.rasa_export import export_rasa_project
from bot.nlu.training_data import TrainingData, load_examples, load_training_data, parse_annotated

__all__ = [
    "EmbeddedParser",
    "Entity",
    "EvaluationReport",
    "Example",
    "IntentScore",
    "ParseResult",
    "Parser",
    "TrainingData",
    "build_parser",
    "evaluate",
    "export_rasa_project",
    "load_examples",
    "load_training_data",
    "parse_annotated",
    "score_predictions",
]
