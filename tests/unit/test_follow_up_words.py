"""The words of a follow-up that tell how it relates to the guide before it (``bot.engine.understanding``)."""

from __future__ import annotations

import pytest

from bot.engine.understanding import tells_outside


@pytest.mark.parametrize(("text", "outside"), [
    ("its for the public defenders office, they arent on city email", True),
    ("fwiw hes not a city employee, hes with the outside engineering firm", True),
    ("its going to the assistant attorney over at the county not somebody in our building", True),
    ("the reviewer works at an outside consulting firm", True),
    ("she is not on our email system", True),
    ("is the county able to open it?", False),
    ("its for my supervisor down the hall", False),
    ("the printer outside my office is jammed again", False),
    ("still bounced, same error", False),
])
def test_telling_that_the_one_it_is_for_is_outside_the_city(text: str, outside: bool) -> None:
    """A follow-up that tells, without asking, that the person a file or invite is for is outside the city."""
    assert tells_outside(text) is outside
