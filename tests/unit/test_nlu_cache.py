"""The embedded model cache: same answers from a cached model, retraining when data or cache change."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.nlu import EmbeddedParser, TrainingData, load_training_data
from bot.nlu.embedded import char_grams, fingerprint, word_grams
from bot.nlu.encoder import default_encoder
from bot.nlu.word_vectors import default_vectors

SAMPLES = ["I forgot my Pasword!!", "  résumé   café VPN  ", "a", "is e-mail down? HELP-12", ""]


@pytest.fixture(scope="module")
def data() -> TrainingData:
    """The project's own training data."""
    return load_training_data(PROJECT_ROOT / "intents")


@pytest.mark.parametrize("text", SAMPLES)
def test_analyzers_match_scikit_learn(text: str) -> None:
    """Our analyzers give exactly scikit-learn's word 1-2 grams and char_wb 1-4 grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b",
                            strip_accents="unicode").build_analyzer()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), strip_accents="unicode").build_analyzer()
    assert word_grams(text) == words(text)
    assert char_grams(text) == chars(text)


def test_cached_model_gives_the_same_parses(data: TrainingData, tmp_path: Path) -> None:
    """A second start loads the saved model and parses exactly as the freshly trained one."""
    trained = EmbeddedParser.train(data, cache_dir=tmp_path)
    [saved] = list(tmp_path.glob("embedded-*.npz"))
    assert fingerprint(data, default_vectors(), default_encoder()) in saved.name
    loaded = EmbeddedParser.train(data, cache_dir=tmp_path)
    for text in ["I forgot my password", "is outlook down", "any update on HELP-9", "lunch?"]:
        assert loaded.parse_text(text) == trained.parse_text(text)


def test_changed_data_trains_a_new_model(data: TrainingData, tmp_path: Path) -> None:
    """New examples change the fingerprint, so a stale model is never used."""
    EmbeddedParser.train(data, cache_dir=tmp_path)
    more = replace(data, examples=[*data.examples, replace(data.examples[0], text="hiya folks")])
    assert fingerprint(more) != fingerprint(data)
    assert fingerprint(data, encoder=default_encoder()) != fingerprint(data)  # the encoder is part of the key
    EmbeddedParser.train(more, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("embedded-*.npz"))) == 2


def test_broken_cache_file_is_retrained(data: TrainingData, tmp_path: Path) -> None:
    """A corrupt cache file is not fatal: the parser trains again and overwrites it."""
    path = tmp_path / f"embedded-{fingerprint(data, default_vectors(), default_encoder())}.npz"
    path.write_bytes(b"not a numpy file")
    parser = EmbeddedParser.train(data, cache_dir=tmp_path)
    assert parser.parse_text("I forgot my password")["intent"]["name"] == "reset_password"
    assert path.stat().st_size > 1000


def test_unwritable_cache_still_trains(data: TrainingData, tmp_path: Path) -> None:
    """A cache folder that cannot be written only costs the cache."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    parser = EmbeddedParser.train(data, cache_dir=blocker / "sub")
    assert parser.parse_text("hello")["intent"]["name"] == "greet"


def test_loading_from_cache_needs_no_scikit_learn(data: TrainingData, tmp_path: Path) -> None:
    """A process that finds the cache never imports scikit-learn (that is the point of it)."""
    import subprocess

    EmbeddedParser.train(data, cache_dir=tmp_path)
    code = (
        "import sys; from pathlib import Path; from bot.nlu import EmbeddedParser, load_training_data; "
        f"EmbeddedParser.train(load_training_data(Path({str(PROJECT_ROOT / 'intents')!r})), "
        f"cache_dir=Path({str(tmp_path)!r})); print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
