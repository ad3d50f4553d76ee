"""``helpdesk nlu``: parse messages from stdin and evaluate the NLU on a labelled set."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from bot.errors import ConfigError
from bot.nlu.evaluate import evaluate as evaluate_parser
from bot.nlu.factory import build_parser
from bot.nlu.training_data import load_examples
from bot.nlu.types import Parser
from bot.settings import load_settings

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

    asyncio.run(run())


@nlu_app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="Labelled examples: a Rasa NLU YAML file or folder, or JSONL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train on the intents folder (without test/) and score the parser on FILE."""
    try:
        examples = load_examples(file)
    except ConfigError as exc:
        _fail(exc)
    parser = _parser_or_exit()
    report = evaluate_parser(parser, examples)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        report.render(Console())


def _parser_or_exit() -> Parser:
    try:
        return build_parser(load_settings())
    except ConfigError as exc:
        _fail(exc)


def _fail(exc: Exception) -> NoReturn:
    """Print one clear line to stderr and leave with status 1."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)
