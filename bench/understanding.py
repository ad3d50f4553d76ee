"""Benchmark understanding on the evaluation data of ``data/eval/`` (issue 14), through the console bot.

Run from the project root: ``python bench/understanding.py --split dev``. With the
default settings, as ``helpdesk shell --jsonl`` would run them (a throwaway SQLite
database, the built-in ticket queue, the technician-assisted directory), it

1. asks each how-to question of ``data/eval/<split>/howto.jsonl`` as a new
   employee and counts how often the first answer is the right article, and how
   many replies are dead ends (the bot says it did not understand, or has no
   guide, and offers nothing to click);
2. plays the conversations of ``data/eval/<split>/*.yml`` with the same runner
   as ``helpdesk test``: of those a good bot finishes alone (self_service,
   declined), how many it does; of those that need a technician (ticket,
   approval, handoff), how many reach one as they should;
3. counts the first messages of those conversations that end at a dead end.

It prints the figures; ``--json FILE`` writes them too. Nothing is asserted.
The test split is scored once, at the end of a piece of work: never tune on it
(see data/eval/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation_tests import (  # noqa: E402
    ConversationTest,
    Expect,
    Outcome,
    Report,
    Say,
    is_dead_end,
    load_conversations,
    run_conversations,
)
from bot.conversation_tests.runner import throwaway_bot  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402


def howto_tests(path: Path) -> list[ConversationTest]:
    """One single-message conversation per how-to question, expecting its article."""
    tests = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        pair = json.loads(line)
        tests.append(ConversationTest(
            name=f"howto {number}: {pair['question'][:60]}", path=str(path), line=number,
            outcome=Outcome.SELF_SERVICE,
            steps=(Say(pair["question"], number), Expect(number, article=pair["article_id"])),
        ))
    return tests


def first_answer_right(report: Report) -> int:
    """How many how-to questions got their article in the first answer (the expectation held)."""
    return sum(result.failure is None or result.failure.where == "outcome" for result in report.results)


def dead_ends(report: Report) -> list[str]:
    """The first messages whose replies are a dead end."""
    return [result.test.name for result in report.results if is_dead_end(list(result.first_replies))]


async def score(split: str) -> dict[str, Any]:
    """Run the how-to questions and the conversations of ``split``; the figures."""
    folder = ROOT / "data" / "eval" / split
    questions = howto_tests(folder / "howto.jsonl")
    conversations = load_conversations(sorted(folder.glob("*.yml")))
    started = time.perf_counter()
    with throwaway_bot(load_settings()) as bot:
        howto = await run_conversations(bot, questions)
        played = await run_conversations(bot, conversations)
    right = first_answer_right(howto)
    howto_dead = dead_ends(howto)
    first_dead = dead_ends(played)
    return {
        "split": split,
        "howto": {"questions": len(questions), "first_answer_right": right,
                  "share_right": round(right / len(questions), 3), "dead_ends": len(howto_dead),
                  "missed": [{"name": r.test.name, "why": r.failure.describe()} for r in howto.results
                             if r.failure is not None and r.failure.where != "outcome"]},
        "conversations": {
            "total": len(conversations), "passed": len(conversations) - played.failed,
            "finished_alone": {"passed": played.resolved.passed, "of": played.resolved.total},
            "routed": {"passed": played.routed.passed, "of": played.routed.total},
            "failed": [{"name": r.test.name, "why": r.failure.describe()} for r in played.results if r.failure],
        },
        "first_messages": {"total": len(conversations), "dead_ends": len(first_dead), "which": first_dead},
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Score understanding on data/eval through the console bot.")
    splits = sorted(folder.name for folder in (ROOT / "data" / "eval").iterdir() if folder.is_dir())
    parser.add_argument("--split", choices=splits, default="dev")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = asyncio.run(score(args.split))
    howto, played, first = figures["howto"], figures["conversations"], figures["first_messages"]
    print(f"split {args.split}")
    print(f"how-to questions: first answer right {howto['first_answer_right']} of {howto['questions']} "
          f"({howto['share_right']:.0%}), dead ends {howto['dead_ends']}")
    print(f"conversations: finished alone {played['finished_alone']['passed']} of {played['finished_alone']['of']}, "
          f"routed {played['routed']['passed']} of {played['routed']['of']} "
          f"({played['passed']} of {played['total']} pass every step)")
    print(f"first messages: {first['dead_ends']} of {first['total']} dead ends")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
