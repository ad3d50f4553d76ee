"""``helpdesk nlu``: parse messages from stdin, evaluate the NLU, export it as a Rasa project."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from bot.core.errors import ConfigError
from bot.core.parse import Parser
from bot.core.settings import load_settings
from bot.nlu.corpora import load_labelled
from bot.nlu.embedded import EmbeddedParser
from bot.nlu.evaluate import close_parser
from bot.nlu.evaluate import cross_validate as cross_validate_parser
from bot.nlu.evaluate import evaluate as evaluate_parser
from bot.nlu.factory import build_parser
from bot.nlu.plot import plot_confusion
from bot.nlu.rasa_export import export_rasa_project
from bot.nlu.training_data import load_training_data

__all__ = ["nlu_app"]

nlu_app = typer.Typer(help="Try and measure the NLU (intents and entities).", no_args_is_help=True)


@nlu_app.command()
def parse() -> None:
    """Read one message per line from stdin and write one parse (JSON) per line to stdout."""
    parser = _parser_or_exit()

    async def run() -> None:
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            result = await parser.parse(text)
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        await close_parser(parser)

    asyncio.run(run())


@nlu_app.command()
def evaluate(
    file: Annotated[Path | None, typer.Argument(
        help="Labelled examples: a Rasa NLU YAML file or folder, JSONL, or a Braun et al. corpus .json "
             "(its test split).")] = None,
    train: Annotated[Path | None, typer.Option(
        "--train", help="Train the embedded parser on this file first (same formats; a corpus .json gives "
                        "its train split) instead of intents/.")] = None,
    cross_validate: Annotated[int | None, typer.Option(
        "--cross-validate", min=2, help="K-fold cross-validation on the training data (intents/ or --train) "
                                        "instead of scoring FILE.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Draw the confusion matrix to this PNG.")] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the full report as JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the NLU on FILE (trained on intents/ without test/, or on --train), or cross-validate it."""
    if (file is None) == (cross_validate is None):
        _fail(ConfigError("give either FILE or --cross-validate K"))
    try:
        if cross_validate is not None:
            settings = load_settings()
            data = load_labelled(train, "train") if train else load_training_data(settings.intents_dir)
            report = cross_validate_parser(data, cross_validate)
        else:
            assert file is not None
            examples = load_labelled(file, "test").examples
            parser = _trained_on(train) if train else _parser_or_exit()
            report = evaluate_parser(parser, examples)
        if plot is not None:
            plot_confusion(report, plot)
    except ConfigError as exc:
        _fail(exc)
    if report_file is not None:
        report_file.parent.mkdir(parents=True, exist_ok=True)
        report_file.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        report.render(Console())


@nlu_app.command("export-rasa")
def export_rasa(
    folder: Annotated[Path, typer.Argument(help="Where to write the Rasa project (created if needed).")],
) -> None:
    """Write a Rasa 3.x NLU project (config.yml, domain.yml, data/nlu.yml) from intents/, for `rasa train nlu`."""
    try:
        data = load_training_data(load_settings().intents_dir)
    except ConfigError as exc:
        _fail(exc)
    written = export_rasa_project(data, folder)
    typer.echo(f"wrote {len(data.examples)} examples of {len(data.intents)} intents to {folder}: "
               + ", ".join(str(path.relative_to(folder)) for path in written))
    typer.echo(f"next: cd {folder} && rasa train nlu && rasa run --enable-api")


def _trained_on(path: Path) -> Parser:
    settings = load_settings()
    return EmbeddedParser.train(load_labelled(path, "train"), max_chars=settings.nlu_max_chars)


def _parser_or_exit() -> Parser:
    try:
        return build_parser(load_settings())
    except ConfigError as exc:
        _fail(exc)


def _fail(exc: Exception) -> NoReturn:
    """Print one clear line to stderr and leave with status 1."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)
