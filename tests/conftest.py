"""Shared fixtures: databases (SQLite and PostgreSQL), a trained NLU, a clock, and a chat driver.

PostgreSQL tests skip when the server is not reachable, unless
HELPDESK_REQUIRE_SERVICES=1 (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Bot
from bot.core.settings import PROJECT_ROOT
from bot.nlu import EmbeddedParser, load_training_data
from bot.store import Database
from tests.support import Chat, Clock, clean_postgres, clean_sqlite, fresh_postgres, make_settings, running_bot

pytest_plugins = ["tests.servers.fixtures"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses this runs once on SQLite and once on PostgreSQL, on a database already migrated
    to the head revision and without a row (the bot's own start-up migration then has nothing to do)."""
    if request.param == "sqlite":
        return clean_sqlite(tmp_path)
    return clean_postgres()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite and PostgreSQL with nothing in them, not even the schema: for the tests of the migrations."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'helpdesk.db'}"
    return fresh_postgres()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def migrated_from_empty(empty_database_url: str) -> Iterator[Database]:
    """A database migrated from nothing by this test."""
    db = Database(empty_database_url)
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def clock() -> Clock:
    """A controllable clock, handed to the bot."""
    return Clock()


@pytest.fixture(scope="session")
def parser() -> EmbeddedParser:
    """The embedded NLU, trained once on the project's intents."""
    return EmbeddedParser.train(load_training_data(PROJECT_ROOT / "intents"))


@pytest.fixture
def bot(database_url: str, parser: EmbeddedParser, clock: Clock) -> Iterator[Bot]:
    """A started bot on a fresh database with the shared NLU."""
    with running_bot(make_settings(database_url), nlu=parser, clock=clock) as instance:
        yield instance


@pytest.fixture
def chat(bot: Bot) -> Chat:
    """The chat driver for ``bot``."""
    return Chat(bot)
