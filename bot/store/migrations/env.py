"""Alembic environment: migrates the connection handed in, or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables)
from bot.store.database import make_engine

target_metadata = SQLModel.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        # sqlmodel's column types are written as `sqltypes.AutoString`, matching the import in script.py.mako
        user_module_prefix="sqltypes.",
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
