"""Build the configured NLU parser from the settings."""

from __future__ import annotations

from bot.core.errors import ConfigError
from bot.core.parse import Parser
from bot.core.settings import Settings
from bot.nlu.embedded import EmbeddedParser
from bot.nlu.training_data import load_training_data

__all__ = ["build_parser"]


def build_parser(settings: Settings) -> Parser:
    """The parser named by ``HELPDESK_NLU``, trained or connected and ready to parse.

    ``embedded`` trains on ``settings.intents_dir`` (without ``test/``);
    ``rasa`` asks the server at ``HELPDESK_RASA_URL`` and keeps the embedded
    parser as its fallback while the server cannot answer. Bad
    training files raise ``TrainingDataError``; anything else unusable raises
    ``ConfigError``.
    """
    data = load_training_data(settings.intents_dir)
    embedded = EmbeddedParser.train(data, max_chars=settings.nlu_max_chars, cache_dir=settings.nlu_cache_dir)
    if settings.nlu == "embedded":
        return embedded
    if not settings.rasa_url:
        raise ConfigError("HELPDESK_NLU=rasa needs HELPDESK_RASA_URL (for example http://localhost:5005)")
    from bot.nlu.rasa_http import CircuitBreaker, RasaHttpParser

    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    breaker = CircuitBreaker(settings.rasa_breaker_failures, settings.rasa_breaker_reset.total_seconds())
    return RasaHttpParser(settings.rasa_url, embedded, token=token, timeout=settings.rasa_timeout,
                          retries=settings.rasa_retries, breaker=breaker)
