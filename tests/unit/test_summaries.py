"""The one-line summary a ticket gets from the employee's words (``bot.core.text.summary_of``)."""

from __future__ import annotations

import pytest

from bot.core.text import summary_of


@pytest.mark.parametrize(("text", "summary"), [
    ("Traffic ops here. Signal cabinet at 5th and Main is dark.", "Signal cabinet at 5th and Main is dark."),
    ("oh. the label printer at the shelter jams on every sheet now", "the label printer at the shelter jams on every "
                                                                    "sheet now"),
    ("ummm ok. outlook wont open since the update", "outlook wont open since the update"),
    ("Sorry to bother you. The plotter in planning says offline.", "The plotter in planning says offline."),
    ("I am afraid I have some unwelcome news. My city laptop was taken from my car.",
     "My city laptop was taken from my car."),
    ("Printer jammed. Again.", "Printer jammed."),
    ("oh", "oh"),
])
def test_a_summary_skips_greetings_and_throat_clearing(text: str, summary: str) -> None:
    """The first sentence that says something: not a greeting, who is writing, "oh." or "sorry to bother you"."""
    assert summary_of(text) == summary
