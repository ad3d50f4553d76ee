"""The working conversation tests (data/eval/dev and fresh to fresh21), run like `helpdesk test`
through the console chat. The test half (data/eval/test) is never run here: it is scored once, at the end of a
piece of work.

The whole set is the target; the suite holds the number that pass, so it can only go up, and a handful of
conversations across the skills must always pass.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.conversation_tests import Report, load_conversations, run_conversations
from bot.conversation_tests.runner import throwaway_bot
from bot.core.settings import PROJECT_ROOT
from bot.nlu import EmbeddedParser
from tests.support import make_settings

EVAL = PROJECT_ROOT / "data" / "eval"
PASSING_TODAY = (
    "ticket: monitor flickering",
    "password: forgot it, reset for me",
    "phishing: gift card from mayor, nothing clicked",
    "announce: parks only notice",
    "status: after filing, any news",
    "handoff: real person please",
)


PASSING_AT_LEAST = {"dev": 73, "fresh": 55, "fresh2": 47, "fresh3": 40, "fresh4": 52, "fresh5": 40, "fresh6": 56,
                    "fresh7": 43, "fresh8": 55, "fresh9": 53, "fresh10": 58, "fresh11": 57, "fresh12": 58,
                    "fresh13": 59, "fresh14": 58, "fresh15": 58, "fresh16": 58, "fresh17": 59, "fresh18": 56,
                    "fresh19": 60, "fresh20": 57, "fresh21": 60, "fresh22": 53, "fresh23": 59, "fresh24": 58,
                    "fresh25": 59, "fresh26": 56, "fresh27": 55}
"""How many conversations of each working set pass. dev: 74 conversations, 53 passed when issue 14 first
landed, 68 after its second session. fresh: 56 conversations written in the third session by writers who saw
neither intents/ nor the bot's failures, 44 passed before anything was tuned on them. fresh2: 48 more, written
later in that session by two new writers, 42 passed before anything was tuned on them. fresh3: 40 that need a
technician, written later still, 34 passed before anything was tuned on them. fresh4: 54 written in the fourth
session by three new writers, 44 passed before anything was tuned on them. fresh5: 40 written later in that
session by a new writer, 39 passed before anything was tuned on them. fresh6: 56 written in the fifth session by
three new writers, 43 passed before anything was tuned on them. fresh7: 44 written later in that session by two new
writers, 40 passed before anything was tuned on them. fresh8: 56 written in the sixth session by three new writers,
45 passed before anything was tuned on them. fresh9: 56 written later in that session by three more, 46 passed before
anything was tuned on them. fresh10: 60 written in the seventh session by three new writers, 47 passed before
anything was tuned on them. fresh11: 60 written later in that session by three more, 50 passed before anything was
tuned on them. fresh12: 60 written late in that session by two more, 49 passed before anything was tuned on them.
fresh13: 60 written at the start of the eighth session by three new writers, 48 passed before anything was tuned on
them. fresh14: 60 written later in that session by three more, 54 passed before anything was tuned on them (the
session's start commit passes 50). fresh15: 60 written late in that session by two more, 56 passed before anything
was tuned on them (the start commit passes 51). fresh16: 60 written at the start of the ninth session by three new
writers, 48 passed before anything was tuned on them. fresh17: 60 written after that session's first work by three
more, 52 passed before anything was tuned on them (the start commit passes 52 too). fresh18: 60 written during the
rest of its work by three more, 50 passed before anything was tuned on them (the start commit passes 50 too).
fresh19: 60 written at the start of the tenth session by three new writers, 54 passed before anything was tuned on
them. fresh20: 60 written after that session's first work by three more, 52 passed before anything was tuned on them
(the start commit passes 52 too). fresh21: 60 written near the end of its work by three more, all 60 passed before
anything was tuned on them, and on the start commit too (README, "Evaluation data"). fresh22: 60 written at the start
of the eleventh session by three new writers, 51 passed before anything was tuned on them (the start commit passes
50). fresh23: 60 written after that session's first work by three more, 54 passed before anything was tuned on them
(the start commit passes 54 too). fresh24: 60 written at the start of the twelfth session by three new writers, 52
passed before anything was tuned on them (the start commit passes 52 too). fresh25: 60 written at the start of the
thirteenth session by three new writers, 54 passed before anything was tuned on them (the start commit was the same
code). fresh26: 60 written later in that session by three new writers, 53 passed before anything was tuned on them
(the start commit passes 53 too). fresh27: 60 written at the end of that session by three new writers, 51 passed
before anything was tuned on them (the start commit passes 50). Since the eleventh session the floors are
those of an encoder with fp32 arithmetic, which answers the same on every CPU; the int8 one it replaced fell below
five floors on an AVX2-only machine (see scripts/build_encoder.py)."""


def _played(folder: str, parser: EmbeddedParser, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Every conversation of ``data/eval/<folder>`` played once on a throwaway database."""
    conversations = load_conversations(sorted((EVAL / folder).glob("*.yml")))
    unused = Path(tmp_path_factory.mktemp(folder)) / "unused.db"
    with throwaway_bot(make_settings(f"sqlite:///{unused}"), nlu=parser) as bot:
        return asyncio.run(run_conversations(bot, conversations))


@pytest.fixture(scope="module")
def reports(parser: EmbeddedParser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """Every conversation of every working set played once, with the shared trained parser."""
    return {folder: _played(folder, parser, tmp_path_factory) for folder in PASSING_AT_LEAST}


def test_a_conversation_of_each_skill_passes(reports: dict[str, Report]) -> None:
    """Tickets, resets, phishing, announcements, ticket status and hand-offs pass through the runner today."""
    results = {result.test.name: result for result in reports["dev"].results}
    for name in PASSING_TODAY:
        assert results[name].passed, results[name].line()


@pytest.mark.parametrize("folder", list(PASSING_AT_LEAST))
def test_the_working_sets_do_not_fall_back(reports: dict[str, Report], folder: str) -> None:
    """At least as many conversations of each working set pass as before; the rest are the known work queue
    (printed when this fails), not a figure to hide."""
    report = reports[folder]
    passed = sum(result.passed for result in report.results)
    failed = [result.line() for result in report.results if not result.passed]
    assert passed >= PASSING_AT_LEAST[folder], f"{passed} of {len(report.results)} passed:\n" + "\n".join(failed)
