"""Alembic's environment for the schema, run by Database.migrate (bot.store.database)."""
