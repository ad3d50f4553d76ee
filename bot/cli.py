"""The ``helpdesk`` command: run, shell, nlu, db, audit."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Annotated

import typer
from aiohttp import web
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.app import Bot
from bot.errors import ConfigError
from bot.nlu.cli import nlu_app
from bot.settings import Settings, load_settings

__all__ = ["app"]

app = typer.Typer(help="civic-helpdesk: the IT helpdesk bot.", no_args_is_help=True, add_completion=False)
app.add_typer(nlu_app, name="nlu", help="Parse and evaluate with the NLU.")
db_app = typer.Typer(help="The database.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

err = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrap at 80 columns
TICK_SECONDS = 30


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _logging(settings: Settings, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _started_bot(settings: Settings) -> Bot:
    bot = Bot(settings)
    try:
        bot.start()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    return bot


async def _tick_forever(bot: Bot) -> None:
    """Housekeeping while the bot runs: expire approvals."""
    while True:
        await asyncio.sleep(TICK_SECONDS)
        try:
            await bot.expire_approvals()
        except Exception:  # keep ticking; the error is logged with its traceback
            logging.getLogger(__name__).exception("housekeeping failed")


@app.command()
def run() -> None:
    """Serve the bot: /healthz and /metrics, the chat channels, and the console chat when no platform is set."""
    from bot.channels.shell import run_interactive
    from bot.server import build_web_app

    settings = _settings()
    _logging(settings)
    if settings.has_chat_credentials:
        err.print("[red]error:[/red] SLACK_BOT_TOKEN is set, but this version has no Slack channel yet. "
                  "Unset it to use the console chat.")
        raise typer.Exit(2)
    bot = _started_bot(settings)

    async def serve() -> None:
        runner = web.AppRunner(build_web_app(bot))
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        ticker = asyncio.create_task(_tick_forever(bot))
        logging.getLogger(__name__).info("serving on http://%s:%s", settings.host, settings.port)
        try:
            if sys.stdin.isatty():
                await run_interactive(bot, settings.console_user)
            else:
                await asyncio.Event().wait()
        finally:
            ticker.cancel()
            await runner.cleanup()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        bot.close()


@app.command()
def shell(
    user: Annotated[str | None, typer.Option(help="Chat as this email (default HELPDESK_CONSOLE_USER).")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read JSON lines on stdin, write JSON lines.")] = False,
) -> None:
    """Chat with the bot in the terminal, or drive it from a script with --jsonl."""
    from bot.channels.console import run_jsonl
    from bot.channels.shell import run_interactive

    settings = _settings()
    _logging(settings, quiet=True)
    bot = _started_bot(settings)
    try:
        if jsonl:
            asyncio.run(run_jsonl(bot, sys.stdin, sys.stdout))
        else:
            asyncio.run(run_interactive(bot, (user or settings.console_user).lower()))
    finally:
        bot.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    from bot.store import Database

    settings = _settings()
    database = Database(settings.database_url)
    try:
        database.migrate()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        database.close()
    Console().print(f"database is up to date: {database.engine.url.render_as_string(hide_password=True)}")


@audit_app.command("tail")
def audit_tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many rows.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row, for scripts.")] = False,
) -> None:
    """Show the newest rows of the audit log."""
    from bot.services.audit import AuditLog
    from bot.store import Database

    settings = _settings()
    database = Database(settings.database_url)
    try:
        database.migrate()
        rows = AuditLog(database).tail(lines)
    finally:
        database.close()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.model_dump(mode="json")))
        return
    table = Table("when (UTC)", "who", "what", "target", "outcome", "detail")
    for row in rows:
        table.add_row(row.at.strftime("%Y-%m-%d %H:%M:%S"), row.actor, row.action, row.target, row.outcome,
                      row.detail)
    Console().print(table)
