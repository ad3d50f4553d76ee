"""The signal classifier (bot/nlu/signals.py) and the synonyms' display names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import TrainingDataError
from bot.core.settings import PROJECT_ROOT
from bot.nlu import load_training_data
from bot.nlu.signals import SURE, SignalReader


@pytest.fixture(scope="module")
def reader() -> SignalReader:
    """The reader trained on the shipped intents/signals/."""
    return SignalReader.train(PROJECT_ROOT / "intents" / "signals",
                              intents=load_training_data(PROJECT_ROOT / "intents"))


def test_the_shipped_signals_read_security_urgency_and_nothing(reader: SignalReader) -> None:
    """A stolen tablet is a security matter, a frozen counter urgent with its reason, a jammed stapler neither."""
    stolen = reader.read("we came back from lunch and the inspection tablet was gone from the truck cab")
    assert stolen is not None and stolen.security and stolen.label.name == "lost_device"
    counter = reader.read("the cashier screen at the clerks window froze and a line is forming")
    assert counter is not None and not counter.security
    assert counter.note.startswith("Marked urgent: ")
    assert reader.read("the stapler on the 4th floor copier is stuck again") is None
    assert reader.read("   ") is None
    log = "\n".join(f"2026-11-23 09:{i:02d} error 0x{i:04x} in module printing" for i in range(40))
    assert reader.read("the plotter keeps failing with these errors\n" + log) is None  # a pasted log is no signal


def test_the_signal_examples_are_not_intents() -> None:
    """intents/signals/ trains only the signal reader, never the intent classifier."""
    intents = load_training_data(PROJECT_ROOT / "intents").intents
    assert "lost_device" not in intents and "none" not in intents


def test_a_label_without_its_meaning_is_refused(tmp_path: Path) -> None:
    """Every label but 'none' needs a kind (security or urgency) and a reason, named in the error."""
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: stolen\n  examples: |\n    - my phone was stolen\n'
        "- intent: none\n  examples: |\n    - my printer jams\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="stolen"):
        SignalReader.train(tmp_path)
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: stolen\n  metadata: {kind: security, reason: a device was stolen}\n'
        "  examples: |\n    - my phone was stolen\n- intent: jam\n  metadata: {kind: loud, reason: x}\n"
        "  examples: |\n    - my printer jams\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="'jam' needs metadata kind"):
        SignalReader.train(tmp_path)


def test_synonyms_carry_the_names_staff_use(tmp_path: Path) -> None:
    """metadata.display names a synonym's value for people; a display that is not a name is refused."""
    assert load_training_data(PROJECT_ROOT / "intents").display_names["erp"].startswith("Munis")
    bad = tmp_path / "synonyms.yml"
    bad.write_text('version: "3.1"\nnlu:\n- synonym: erp\n  metadata: {display: [a, b]}\n  examples: |\n'
                   "    - munis\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="synonyms.yml:4: 'display' must be a name"):
        load_training_data(bad)


@pytest.mark.parametrize("text", [
    "I am sorry to report some bad news. After the dedication ceremony at Riverside Park last evening I put my "
    "handbag down on a picnic table for what could only have been a minute, and when I turned back it was gone. My "
    "city laptop was in it, with the draft State of the City speech and some confidential HR memos. I filed a police "
    "report this morning. Please let me know what is needed from me. Joan Pryor, City Clerk's Office, 555-0127",
    "was helping a resident at the counter in the rec center and when i turned around the bag on my chair wasnt there "
    "anymore. my work laptop was in it",
])
def test_a_loss_told_as_a_story_is_a_security_matter(reader: SignalReader, text: str) -> None:
    """A device lost with the bag it was in, told as what happened rather than with "lost" or "stolen", and in a
    long formal letter whose memos and police case read as ordinary before four such letters were examples."""
    signal = reader.read(text)
    assert signal is not None and signal.label.name == "lost_device"


def test_mail_sent_in_ones_name_after_a_clicked_link_is_a_compromise(reader: SignalReader) -> None:
    """Told of a coworker, without "hacked": she opened a link, and now people answer emails she never sent; read
    surely (``SURE``), as a security matter that changes the course of a flow must be."""
    signal = reader.read("a coworker in records opened a link in an email that looked like it came from the courts "
                         "yesterday, and this morning people are writing back to emails she never sent")
    assert signal is not None and signal.label.name == "compromise" and signal.confidence >= SURE
