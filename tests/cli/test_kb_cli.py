"""`helpdesk kb reindex|ask|evaluate|gaps`, run in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.core.settings import PROJECT_ROOT
from bot.surfaces.cli import app

runner = CliRunner()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with its own database and a copy of the knowledge base."""
    kb = tmp_path / "kb"
    shutil.copytree(PROJECT_ROOT / "data" / "kb", kb)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("HELPDESK_KB_DIR", str(kb))
    monkeypatch.setenv("HELPDESK_INTENTS_DIR", str(PROJECT_ROOT / "intents"))
    return kb


def test_reindex_counts_articles_and_names_broken_ones(workspace: Path) -> None:
    """Reindex reports the articles; a broken one is named with its line and the exit code is 1."""
    result = runner.invoke(app, ["kb", "reindex"])
    assert result.exit_code == 0, result.output
    count = len(list(workspace.glob("*.md")))
    assert f"{count} articles indexed" in result.output
    (workspace / "bad.md").write_text("---\nid: bad\ntitle: [oops\n---\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "reindex"])
    assert result.exit_code == 1
    assert "bad.md:" in result.output and f"{count} articles indexed" in result.output


def test_ask_json_ranks_articles(workspace: Path) -> None:
    """`kb ask --json` gives the answer and the ranked article ids with scores."""
    result = runner.invoke(app, ["kb", "ask", "how do I scan a document to my email", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["answer"] == "scan-to-email"
    scores = [hit["score"] for hit in answer["ranking"]]
    assert answer["ranking"][0]["id"] == "scan-to-email" and scores == sorted(scores, reverse=True)


def test_evaluate_reports_hits_and_mrr(workspace: Path, tmp_path: Path) -> None:
    """`kb evaluate` scores a JSONL file; a bad line is named."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps({"question": "how do I scan a document to my email", "article_id": "scan-to-email"}) + "\n"
        + json.dumps({"question": "set my out of office in outlook", "article_id": "outlook-out-of-office"}) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["kb", "evaluate", str(pairs), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["count"] == 2 and report["hit_at_1"] == 1.0 and report["mrr"] == 1.0
    pairs.write_text("{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "evaluate", str(pairs)])
    assert result.exit_code == 1 and "line 1" in result.output


def test_gaps_lists_grouped_questions(workspace: Path) -> None:
    """Questions without an answer, asked through the shell, come out of `kb gaps` counted."""
    lines = "\n".join(json.dumps({"user": f"u{i}@city.example", "text": text}) for i, text in enumerate([
        "how do i calibrate the plotter in the gis lab", "how do i calibrate the gis plotter",
    ]))
    result = runner.invoke(app, ["shell", "--jsonl"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["kb", "gaps", "--json"])
    assert result.exit_code == 0, result.output
    [gap] = [json.loads(line) for line in result.output.splitlines()]
    assert gap["count"] == 2 and "plotter" in gap["examples"][0]


@pytest.mark.parametrize("command", [["audit", "tail"], ["kb", "gaps"], ["db", "upgrade"]])
def test_unusable_database_is_one_line_and_exit_2(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command that opens the database says what is wrong in one line instead of a traceback."""
    monkeypatch.setenv("HELPDESK_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "cannot migrate" in result.output and "Traceback" not in result.output
