"""The shipped intents/ against the dev set in intents/test/: the quality the README promises holds."""

from __future__ import annotations

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.nlu import EmbeddedParser, evaluate, load_training_data
from bot.nlu.evaluate import EvaluationReport

BLURRED_PAIRS = [("reset_password", "unlock_account"), ("open_ticket", "outage_status"), ("open_ticket", "howto"),
                 ("outage_status", "howto"), ("announce", "report_phishing")]


@pytest.fixture(scope="module")
def report(parser: EmbeddedParser) -> EvaluationReport:
    dev = load_training_data(PROJECT_ROOT / "intents" / "test", exclude=())
    return evaluate(parser, dev.examples)


def test_dev_set_macro_f1_meets_the_target(report: EvaluationReport) -> None:
    assert report.total == 286
    assert report.macro_f1 >= 0.95
    assert report.entities_exact.f1 == 1.0


@pytest.mark.parametrize(("first", "second"), BLURRED_PAIRS)
def test_the_pairs_employees_blur_stay_apart(report: EvaluationReport, first: str, second: str) -> None:
    """At most one dev message of either intent is read as the other."""
    row, column = report.labels.index(first), report.labels.index(second)
    assert report.matrix[row][column] + report.matrix[column][row] <= 1
