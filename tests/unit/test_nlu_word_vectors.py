"""The shipped static word vectors (model2vec): words of like meaning lie close, unknown words are spelled
from pieces, and the parser's fast path uses them for words its training data never had."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.nlu import EmbeddedParser
from bot.nlu.word_vectors import DEFAULT_DIR, WordVectors, default_vectors
from tests.support import printing_or_food


@pytest.fixture(scope="module")
def vectors() -> WordVectors:
    loaded = default_vectors()
    assert loaded is not None, f"{DEFAULT_DIR} is missing"
    return loaded


def _similarity(vectors: WordVectors, a: str, b: str) -> float:
    first, second = vectors.sentence(a), vectors.sentence(b)
    assert first is not None and second is not None
    return float(first @ second)


def test_words_of_like_meaning_lie_close(vectors: WordVectors) -> None:
    assert vectors.dimensions == 256
    assert _similarity(vectors, "certainly", "sure") > _similarity(vectors, "certainly", "printer")
    assert _similarity(vectors, "laptop", "computer") > _similarity(vectors, "laptop", "lunch")
    assert _similarity(vectors, "password", "passcode") > _similarity(vectors, "password", "parking")


def test_sentences_are_unit_length(vectors: WordVectors) -> None:
    vector = vectors.sentence("my outlook keeps crashing")
    assert vector is not None
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_an_unknown_word_is_spelled_from_pieces(vectors: WordVectors) -> None:
    assert len(vectors.token_ids("alrighty")) > 1
    assert _similarity(vectors, "alrighty", "alright") > _similarity(vectors, "alrighty", "printer")


def test_nothing_to_go_on_gives_no_vector(vectors: WordVectors) -> None:
    assert vectors.sentence("") is None
    assert vectors.sentences(["", "hello"])[0].tolist() == [0.0] * vectors.dimensions


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        WordVectors(tmp_path)


@pytest.mark.parametrize(("text", "intent"), [("toner cartridge empty", "printing"),
                                              ("fax machine", "printing"), ("pizza", "food")])
def test_the_fast_path_understands_words_it_never_saw(text: str, intent: str) -> None:
    """None of these words is in the examples; n-grams alone get each of them wrong, their meaning gets them right."""
    without_vectors = EmbeddedParser.train(printing_or_food(), word_vectors=False, encoder=False)
    assert without_vectors.parse_text(text)["intent"]["name"] != intent
    assert EmbeddedParser.train(printing_or_food(), encoder=False).parse_text(text)["intent"]["name"] == intent


def test_the_parser_trains_without_vectors(tmp_path: Path) -> None:
    """word_vectors=False is the TF-IDF model alone, and its cache entry is separate."""
    plain = EmbeddedParser.train(printing_or_food(), cache_dir=tmp_path, word_vectors=False, encoder=False)
    EmbeddedParser.train(printing_or_food(), cache_dir=tmp_path, encoder=False)
    assert len(list(tmp_path.glob("embedded-*.npz"))) == 2
    assert plain.parse_text("the printer is jammed")["intent"]["name"] == "printing"
