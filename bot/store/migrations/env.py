"""Alembic environment: migrates the connection handed in, or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables)
from bot.store.database import make_engine

target_metadata = SQLModel.metadata


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _migrate(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///helpdesk.db")
    with engine.begin() as conn:
        _migrate(conn)
