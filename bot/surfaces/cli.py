"""The ``helpdesk`` command: run, shell, test, nlu, db, audit, kb, announce, report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bot.app import Bot
from bot.core.errors import ConfigError
from bot.core.settings import Settings, load_settings
from bot.integrations.kb import KnowledgeBase, evaluate_retrieval, load_pairs
from bot.nlu import load_training_data
from bot.nlu.cli import nlu_app
from bot.nlu.evaluate import close_parser
from bot.store import Database, utcnow
from bot.surfaces.announce_cli import announce_app

if TYPE_CHECKING:
    from aiohttp import web

    from bot.channels.slack.channel import SlackChannel
    from bot.channels.teams.channel import TeamsChannel

__all__ = ["app"]

app = typer.Typer(help="civic-helpdesk: the IT helpdesk bot.", no_args_is_help=True, add_completion=False)
app.add_typer(nlu_app, name="nlu", help="Parse and evaluate with the NLU.")
db_app = typer.Typer(help="The database.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
kb_app = typer.Typer(help="The knowledge base of how-to articles.", no_args_is_help=True)
teams_app = typer.Typer(help="Microsoft Teams.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")
app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(announce_app, name="announce")

err = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrap at 80 columns
WIDE_AUDIT = 120  # columns from which `helpdesk audit tail` prints one table row per entry


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _logging(settings: Settings, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The configured database, migrated; a database that cannot be used exits with one line."""
    database = Database(settings.database_url)
    try:
        database.migrate()
        yield database
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        database.close()


def _started_bot(settings: Settings) -> Bot:
    try:
        bot = Bot(settings)
        bot.start()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    return bot


def _reload_kb_on_sighup(bot: Bot) -> None:
    """``kill -HUP <pid>`` re-reads the knowledge base now."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(asyncio.to_thread(bot.kb.load)))


def _slack_channel(bot: Bot, web_app: web.Application) -> SlackChannel:
    """The Slack channel: Socket Mode with SLACK_APP_TOKEN, else ``POST /slack/events`` on ``web_app``."""
    from bot.channels.slack.channel import SlackChannel

    try:
        channel = SlackChannel(bot)
        if not bot.settings.slack_app_token:
            channel.attach(web_app)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        bot.close()
        raise typer.Exit(2) from None
    bot.add_channel(channel)
    return channel


@app.command()
def run() -> None:
    """Serve the bot: /healthz and /metrics, the chat channels, and the console chat when no platform is set."""
    from aiohttp import web

    from bot.channels.console.shell import run_interactive
    from bot.services.running import running_line
    from bot.surfaces.server import AccessLog, build_web_app
    from bot.surfaces.startup import not_configured, serving_line

    settings = _settings()
    console = sys.stdin.isatty() and not settings.has_chat_credentials
    _logging(settings, quiet=console)  # the console chat shows warnings only, not every start-up step
    _check_teams(settings)
    bot = _started_bot(settings)
    web_app = build_web_app(bot)
    slack = _slack_channel(bot, web_app) if settings.slack_bot_token else None

    async def serve() -> None:
        teams = _teams_channel(bot) if settings.teams_enabled else None
        if teams is not None:
            teams.mount(web_app)
        runner = web.AppRunner(web_app, access_log_class=AccessLog)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        if slack is not None and settings.slack_app_token:
            await slack.connect_socket_mode(settings.slack_app_token)
        background = asyncio.create_task(bot.run_background())
        _reload_kb_on_sighup(bot)
        log = logging.getLogger(__name__)
        log.info(serving_line(settings, slack=slack is not None, teams=teams is not None))
        if not console:
            log.info(running_line(bot))
            for line in not_configured(settings):
                log.warning(line)
        try:
            if console:
                await run_interactive(bot, settings.console_user)
            else:
                await asyncio.Event().wait()
        finally:
            if teams is not None:
                await teams.drain()
            background.cancel()
            if slack is not None:
                await slack.close()
            await runner.cleanup()
            await close_parser(bot.nlu)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        bot.close()


def _check_teams(settings: Settings) -> None:
    """Stop with one line when the Teams settings are unsafe or incomplete."""
    if not settings.teams_enabled:
        return
    from bot.channels.teams.auth import check_teams_settings

    try:
        check_teams_settings(settings)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _teams_channel(bot: Bot) -> TeamsChannel:
    """The Teams channel, connected to ``bot``."""
    from bot.channels.teams.channel import TeamsChannel

    channel = TeamsChannel(bot)
    bot.add_channel(channel)
    return channel


@app.command()
def shell(
    user: Annotated[str | None, typer.Option(help="Chat as this email (default HELPDESK_CONSOLE_USER).")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read JSON lines on stdin, write JSON lines.")] = False,
) -> None:
    """Chat with the bot in the terminal, or drive it from a script with --jsonl."""
    settings = _settings()
    _logging(settings, quiet=True)
    bot = _started_bot(settings)
    try:
        # Each imported only when used: the interactive shell's rich Markdown is memory --jsonl never needs.
        if jsonl:
            from bot.channels.console.channel import run_jsonl

            asyncio.run(run_jsonl(bot, sys.stdin, sys.stdout))
        else:
            from bot.channels.console.shell import run_interactive

            asyncio.run(run_interactive(bot, (user or settings.console_user).lower()))
    finally:
        bot.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    with _database(_settings()) as database:
        url = database.engine.url.render_as_string(hide_password=True)
    Console().print(f"database is up to date: {url}")


@audit_app.command("tail")
def audit_tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many rows.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row, for scripts.")] = False,
) -> None:
    """Show the newest rows of the audit log."""
    from bot.services.audit import AuditLog

    with _database(_settings()) as database:
        rows = AuditLog(database).tail(lines)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.model_dump(mode="json")))
        return
    console = Console()
    if console.width >= WIDE_AUDIT:
        table = Table("when (UTC)", "who", "what", "target", "outcome", "detail")
        for row in rows:
            table.add_row(row.at.strftime("%Y-%m-%d %H:%M:%S"), row.actor, row.action, row.target, row.outcome,
                          row.detail)
        console.print(table)
        return
    # Narrow terminals: two lines per row, so no action name is ever cut short.
    for row in rows:
        console.print(Text.assemble((row.at.strftime("%Y-%m-%d %H:%M:%S"), "dim"), "  ", (row.action, "bold"),
                                    "  ", (row.outcome, "green" if row.outcome in ("ok", "approved") else "yellow")))
        who = row.actor + (f" → {row.target}" if row.target else "")
        console.print(Text("  " + who + (f": {row.detail}" if row.detail else "")), overflow="fold")


def _knowledge_base(settings: Settings) -> KnowledgeBase:
    """The configured knowledge base, loaded, with the NLU's synonyms for query expansion."""
    try:
        synonyms = load_training_data(settings.intents_dir).synonyms
    except ConfigError:
        synonyms = {}
    kb = KnowledgeBase(settings.kb_dir, base_url=settings.kb_base_url, synonyms=synonyms,
                       cache_dir=settings.nlu_cache_dir)
    kb.load()
    return kb


@kb_app.command("reindex")
def kb_reindex() -> None:
    """Re-read HELPDESK_KB_DIR and report what loaded; exit 1 if an article is broken.

    A running bot picks up changes in that folder within seconds by itself; send it SIGHUP to reload at once.
    """
    settings = _settings()
    kb = _knowledge_base(settings)
    for problem in kb.errors:
        err.print(f"[red]error:[/red] {escape(problem)}")
    Console().print(f"{len(kb.articles)} articles indexed from {settings.kb_dir}"
                    + (f", {len(kb.errors)} broken" if kb.errors else ""))
    if kb.errors:
        raise typer.Exit(1)


@kb_app.command("ask")
def kb_ask(
    question: Annotated[str, typer.Argument(help="The question, as an employee would ask it.")],
    limit: Annotated[int, typer.Option(min=1, max=50, help="How many articles to rank.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank the articles for QUESTION, and say which one the bot would answer with (if any)."""
    kb = _knowledge_base(_settings())
    hits = kb.search(question, limit=limit)
    best = kb.best(question)
    answer = best.article.id if best else None
    if as_json:
        ranking = [{"id": h.article.id, "title": h.article.title, "score": round(h.score, 4),
                    "confidence": round(h.confidence, 4)} for h in hits]
        typer.echo(json.dumps({"question": question, "answer": answer, "ranking": ranking}))
        return
    table = Table("article", "title", "score", "confidence")
    for hit in hits:
        table.add_row(hit.article.id, hit.article.title, f"{round(hit.score, 4):.3f}",
                      f"{round(hit.confidence, 4):.2f}")
    Console().print(table)
    Console().print(f"answer: {answer or 'none (no article scores high enough)'}")


@kb_app.command("evaluate")
def kb_evaluate(
    file: Annotated[Path, typer.Argument(help='JSONL lines of {"question", "article_id"}.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score retrieval on FILE: hit@1, hit@3 and MRR."""
    try:
        pairs = load_pairs(file)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    report = evaluate_retrieval(_knowledge_base(_settings()), pairs)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    Console().print(f"{report.count} questions   hit@1 {report.hit_at_1:.3f}   hit@3 {report.hit_at_3:.3f}   "
                    f"MRR {report.mrr:.3f}   answered {report.answered:.3f}")


@kb_app.command("gaps")
def kb_gaps(
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many groups.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per group.")] = False,
) -> None:
    """Unanswered and unhelpful questions, grouped and counted: the articles to write next."""
    from bot.services.questions import QuestionLog

    with _database(_settings()) as database:
        gaps = QuestionLog(database, utcnow).gaps(limit)
    if as_json:
        for gap in gaps:
            typer.echo(json.dumps({"count": gap.count, "examples": gap.examples, "articles": sorted(gap.articles),
                                   "last_asked": gap.last_asked.isoformat() if gap.last_asked else None}))
        return
    table = Table("asked", "for example", "articles that did not help", "last asked (UTC)")
    for gap in gaps:
        table.add_row(str(gap.count), "\n".join(gap.examples), ", ".join(sorted(gap.articles)) or "(none found)",
                      gap.last_asked.strftime("%Y-%m-%d %H:%M") if gap.last_asked else "")
    Console().print(table)


@app.command()
def report(
    month: Annotated[str, typer.Option("--month", help="The calendar month, like 2026-11.")],
    form: Annotated[str, typer.Option("--format", help="html (a printable page) or csv.")] = "html",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")] = None,
) -> None:
    """The monthly report for the city manager: deflection, volumes, tickets, resets, savings."""
    from bot.core.errors import IntegrationError
    from bot.integrations.tickets import build_ticket_backend
    from bot.reports.export import to_csv
    from bot.reports.page import report_page
    from bot.services.figures import Period, gather
    from bot.services.outcomes import OutcomeLog
    from bot.surfaces.dashboard import report_title

    settings = _settings()
    if form not in ("html", "csv"):
        err.print("[red]error:[/red] --format must be html or csv")
        raise typer.Exit(2)
    try:
        period = Period.of_month(month, settings.timezone)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --month: {escape(str(exc))}")
        raise typer.Exit(2) from None
    with _database(settings) as database:
        OutcomeLog(database, utcnow, settings.outcome_window, settings.outcome_idle).settle()
        backend = build_ticket_backend(settings, database, utcnow)
        try:
            tickets = asyncio.run(backend.list_open())
        except IntegrationError as exc:
            err.print(f"warning: open tickets left out: {escape(str(exc))}")
            tickets = None
        finally:
            close_backend = getattr(backend, "close", None)
            if close_backend is not None:
                close_backend()
        figures = gather(database, settings, period, tickets, utcnow())
    text = to_csv(figures) if form == "csv" else report_page(figures, report_title(period))
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    err.print(f"wrote {output}")


@teams_app.command("package")
def teams_package(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the zip.")] = Path(
        "helpdesk-teams.zip"),
    version: Annotated[str, typer.Option(help="The app version (semver); raise it for every upload.")] = "1.0.0",
    developer: Annotated[str, typer.Option(help="Who publishes the app (your IT department).")] = "City IT",
    website: Annotated[str | None, typer.Option(help="https URL of your IT help page.")] = None,
) -> None:
    """Write the Teams app package (manifest.json and two icons, zipped) for an admin to upload."""
    from bot.channels.teams.app_package import PROJECT_URL, build_manifest, write_package
    from bot.engine.prompts import prompts_for
    from bot.engine.skill import load_skills

    settings = _settings()
    if not settings.teams_app_id:
        err.print("[red]error:[/red] HELPDESK_TEAMS_APP_ID is not set (the bot's Microsoft App ID)")
        raise typer.Exit(2)
    try:
        manifest = build_manifest(settings.teams_app_id, version=version, developer=developer,
                                  website_url=website or settings.kb_base_url or PROJECT_URL,
                                  prompts=prompts_for(load_skills(), None))
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    write_package(output, manifest)
    Console().print(f"wrote {output}: upload it in Teams admin center > Teams apps > Manage apps > Upload")


@app.command("test")
def conversation_tests(
    files: Annotated[list[Path], typer.Argument(help="YAML files (or folders) of conversations.")],
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
                         ] = None,
) -> None:
    """Run the desk's end-to-end conversation tests through the console chat, on a throwaway database.

    One line per conversation (pass, or the first failing step and what the bot said), then the share
    the bot resolved and the share it routed to a technician. Exit 1 if any conversation fails.
    """
    from bot.conversation_tests import ConversationFileError, load_conversations, run_conversations
    from bot.conversation_tests.runner import throwaway_bot

    try:
        conversations = load_conversations(files)
    except ConversationFileError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    settings = _settings()
    _logging(settings, quiet=True)
    out = Console(soft_wrap=True, highlight=False)
    try:
        with throwaway_bot(settings) as bot:
            report = asyncio.run(run_conversations(bot, conversations, lambda r: out.print(escape(r.line()))))
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    out.print(report.summary())
    if json_file is not None:
        try:
            json_file.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            err.print(f"[red]error:[/red] cannot write {escape(str(json_file))}: {escape(exc.strerror or str(exc))}")
            raise typer.Exit(2) from None
    if report.failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
