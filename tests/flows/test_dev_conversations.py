"""The dev half of the conversation tests (data/eval/dev), run like `helpdesk test` through the console chat.

The whole half is what issue 14's dialogue policy must pass; until it lands the test is expected to fail.
A handful of conversations across the skills pass today and must keep passing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.conversation_tests import Report, load_conversations, run_conversations
from bot.conversation_tests.runner import throwaway_bot
from bot.nlu import EmbeddedParser
from bot.settings import PROJECT_ROOT
from tests.support import make_settings

DEV = PROJECT_ROOT / "data" / "eval" / "dev"
PASSING_TODAY = (
    "ticket: monitor flickering",
    "password: forgot it, reset for me",
    "phishing: gift card from mayor, nothing clicked",
    "announce: parks only notice",
    "status: after filing, any news",
    "handoff: real person please",
)


@pytest.fixture(scope="module")
def dev_report(parser: EmbeddedParser, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Every dev conversation played once on a throwaway database, with the shared trained parser."""
    conversations = load_conversations(sorted(DEV.glob("*.yml")))
    unused = Path(tmp_path_factory.mktemp("dev")) / "unused.db"
    with throwaway_bot(make_settings(f"sqlite:///{unused}"), nlu=parser) as bot:
        return asyncio.run(run_conversations(bot, conversations))


def test_a_conversation_of_each_skill_passes(dev_report: Report) -> None:
    """Tickets, resets, phishing, announcements, ticket status and hand-offs pass through the runner today."""
    results = {result.test.name: result for result in dev_report.results}
    for name in PASSING_TODAY:
        assert results[name].passed, results[name].line()


@pytest.mark.xfail(reason="issue 14 dialogue policy lands separately", strict=False)
def test_every_dev_conversation_passes(dev_report: Report) -> None:
    """The bot finishes alone what it should and routes what needs a technician, in every dev conversation."""
    failed = [result.line() for result in dev_report.results if not result.passed]
    assert not failed, f"{len(failed)} of {len(dev_report.results)} failed:\n" + "\n".join(failed)
