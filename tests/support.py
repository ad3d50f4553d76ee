"""Test helpers: required services, settings, a clock, and the chat driver."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from bot.app import Bot
from bot.channels.console.channel import ConsoleChannel
from bot.core.parse import Example
from bot.core.settings import PROJECT_ROOT, Settings
from bot.nlu import TrainingData
from bot.store import Database
from bot.store.database import upgrade

REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES", "") not in ("", "0", "false")
POSTGRES_URL = os.environ.get("HELPDESK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TECHNICIANS = ["tom@city.example", "tia@city.example"]


def need_service(reason: str) -> None:
    """Skip with ``reason``, or fail when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (HELPDESK_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


_own_database: str | None = None


def _postgres_for_this_run() -> str:
    """A database of this test process's own (``<name>_<pid>``), created once from POSTGRES_URL.

    Two test runs at once (a developer and CI) never touch each other's tables.
    """
    global _own_database
    if _own_database is None:
        base = make_url(POSTGRES_URL)
        name = f"{base.database}_{os.getpid()}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        atexit.register(_drop_database, base, name)
        _own_database = base.set(database=name).render_as_string(hide_password=False)
    return _own_database


def _drop_database(base: URL, name: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_postgres() -> str:
    """This run's PostgreSQL database with an empty public schema."""
    global _migrated
    try:
        url = _postgres_for_this_run()
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except OperationalError as exc:
        need_service(f"PostgreSQL is not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}")
    _migrated = False
    return url


_migrated = False


def clean_postgres() -> str:
    """This run's PostgreSQL database, migrated to the head revision and without a row.

    The schema is migrated from empty once (and again after ``fresh_postgres``); each later call empties
    the tables and restarts their ids. Migrating anew took 0.6 s a test, emptying takes a few ms; the
    migrations from empty are still tested, by ``tests/store`` and the first test of a run.
    """
    global _migrated
    if not _migrated:
        url = fresh_postgres()
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        _migrated = True
        return url
    url = _postgres_for_this_run()
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        if tables:
            names = ", ".join(f'"{table}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


_sqlite_template: Path | None = None


def clean_sqlite(folder: Path) -> str:
    """A SQLite database in ``folder``, migrated to the head revision and without a row: a copy of one
    migrated once per test run."""
    global _sqlite_template
    if _sqlite_template is None or not _sqlite_template.exists():
        template = Path(tempfile.mkdtemp(prefix="helpdesk-template-")) / "helpdesk.db"
        database = Database(f"sqlite:///{template}")
        database.migrate()
        database.close()
        atexit.register(shutil.rmtree, template.parent, True)
        _sqlite_template = template
    target = folder / "helpdesk.db"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite:///{target}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """Move time forward, e.g. ``advance(minutes=31)``."""
        self.now += timedelta(**kwargs)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test: no .env file, technicians Tom and Tia."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "technicians": TECHNICIANS,
        "intents_dir": PROJECT_ROOT / "intents",
        "kb_dir": PROJECT_ROOT / "data" / "kb",
        "kb_base_url": "https://intranet.city.example/kb",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def running_bot(settings: Settings, **options: Any) -> Iterator[Bot]:
    """A started bot on ``settings`` (``options`` go to ``Bot``: nlu, clock ...), closed afterwards."""
    bot = Bot(settings, **options)
    bot.start()
    try:
        yield bot
    finally:
        bot.close()


class Chat:
    """Drives the bot through the console channel, errbot-testbot style."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.console = ConsoleChannel(bot)
        bot.add_channel(self.console)

    async def say(self, user: str, text: str, conversation: str | None = None) -> list[dict[str, Any]]:
        """``user`` writes ``text``; the replies it caused."""
        return await self.console.say(user, text, conversation)

    async def click(self, user: str, button_id: str) -> list[dict[str, Any]]:
        """``user`` clicks ``button_id``; the replies it caused."""
        return await self.console.click(user, button_id)

    async def submit(self, user: str, form_id: str, values: dict[str, str]) -> list[dict[str, Any]]:
        """``user`` submits the form ``form_id`` with ``values``; the replies it caused."""
        return await self.console.submit(user, form_id, values)

    @property
    def lines(self) -> list[dict[str, Any]]:
        """Every reply so far."""
        return self.console.lines


def button(lines: list[dict[str, Any]], label: str) -> str:
    """The id of the button labelled ``label`` in ``lines`` (the last one if several)."""
    found = [b["id"] for line in lines for b in line["buttons"] if b["label"] == label]
    assert found, f"no button {label!r} in {lines}"
    return found[-1]


def texts(lines: list[dict[str, Any]], to: str | None = None) -> str:
    """All reply texts (to ``to`` only, when given), joined for searching."""
    return "\n".join(line["text"] for line in lines if to is None or line["to"] == to)


def form_of(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The last form in ``lines``."""
    forms = [line["form"] for line in lines if "form" in line]
    assert forms, f"no form in {lines}"
    return forms[-1]


def initial_values(form: dict[str, Any], **changes: str) -> dict[str, str]:
    """A form's initial values, with ``changes`` typed over them (what a person submits)."""
    values = {item["name"]: item["initial"] for item in form["inputs"]}
    values.update(changes)
    return values


def printing_or_food() -> TrainingData:
    """Twelve examples of two intents, for the tests of what a parser knows beyond its examples' words."""
    printing = ["the printer is jammed", "printer not printing", "printer out of paper", "cannot print my document",
                "print job stuck", "printing is slow"]
    food = ["where can i get lunch", "is the cafeteria open", "what is for dinner", "i am hungry",
            "any good places to eat", "coffee break time"]
    return TrainingData([Example(text, "printing", []) for text in printing]
                        + [Example(text, "food", []) for text in food])
