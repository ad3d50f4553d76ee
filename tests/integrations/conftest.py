"""Fixtures for the integration tests: a migrated SQLite database, copied from one migrated once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.store import Database


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, for tests to copy (migrating each time costs half a second)."""
    path = tmp_path_factory.mktemp("template") / "helpdesk.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.close()
    return path


@pytest.fixture
def sqlite_url(migrated_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database of this test's own."""
    target = tmp_path / "helpdesk.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"
