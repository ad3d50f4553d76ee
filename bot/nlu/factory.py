"""Build the configured NLU parser from the settings."""

from __future__ import annotations

from bot.errors import ConfigError
from bot.nlu.embedded import EmbeddedParser
from bot.nlu.training_data import load_training_data
from bot.nlu.types import Parser
from bot.settings import Settings

__all__ = ["build_parser"]


def build_parser(settings: Settings) -> Parser:
    """The parser named by ``HELPDESK_NLU``, trained or connected and ready to parse.

    ``embedded`` trains on ``settings.intents_dir`` (without ``test/``). Bad
    training files raise ``TrainingDataError``; anything else unusable raises
    ``ConfigError``.
    """
    if settings.nlu == "embedded":
        data = load_training_data(settings.intents_dir)
        return EmbeddedParser.train(data, max_chars=settings.nlu_max_chars, cache_dir=settings.nlu_cache_dir)
    raise ConfigError(f"HELPDESK_NLU={settings.nlu} is not available yet")
