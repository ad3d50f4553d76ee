"""The shipped sentence encoder: meaning, not words, brings sentences close; one text or many give the same
vectors; and the parser uses it for messages whose words it never saw."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.nlu import EmbeddedParser
from bot.nlu.encoder import DEFAULT_DIR, SentenceEncoder, default_encoder
from tests.support import printing_or_food


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    loaded = default_encoder()
    assert loaded is not None, f"the encoder files in {DEFAULT_DIR} are missing"
    return loaded


def test_similar_sentences_lie_closer_than_unrelated_ones(encoder: SentenceEncoder) -> None:
    first, paraphrase, unrelated = encoder.encode(
        ["i cant get into the timesheet system", "the payroll website will not let me sign in",
         "where can i get lunch near city hall"])
    assert float(first @ paraphrase) > float(first @ unrelated) + 0.1


def test_vectors_are_unit_length_float32(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(["my outlook keeps crashing", "", "x" * 5000])
    assert vectors.dtype == np.float32 and vectors.shape == (3, encoder.dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_a_batch_gives_what_each_text_gives_alone_every_time(encoder: SentenceEncoder) -> None:
    texts = ["reset my password", "the printer on the 2nd floor is jammed again", "hi"]
    together = encoder.encode(texts)
    encoder.forget()
    alone = np.vstack([encoder.encode([text]) for text in texts])
    encoder.forget()
    assert np.array_equal(together, alone)
    assert np.array_equal(encoder.encode(texts), together)


def test_this_machine_gives_the_vectors_the_build_machine_gave(encoder: SentenceEncoder) -> None:
    """fp32 arithmetic differs from CPU to CPU by about 1e-7; int8 arithmetic moved vectors by 1e-2 and answers
    with them (scripts/build_encoder.py). The reference vectors were written on the machine that built the files."""
    reference = json.loads((DEFAULT_DIR / "encoder.json").read_text(encoding="utf-8"))["reference"]
    encoder.forget()
    here = encoder.encode(reference["texts"])
    assert np.abs(here - np.asarray(reference["vectors"], dtype=np.float32)).max() < 1e-5


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        SentenceEncoder(tmp_path)


@pytest.mark.parametrize(("text", "intent"), [("photocopier broken", "printing"),
                                              ("toner cartridge ran dry", "printing"),
                                              ("my stomach is growling", "food")])
def test_the_parser_understands_messages_of_words_it_never_saw(text: str, intent: str) -> None:
    """No word of these is in the examples: n-grams alone miss, the sentence vector gets them right."""
    words_only = EmbeddedParser.train(printing_or_food(), word_vectors=False, encoder=False)
    with_encoder = EmbeddedParser.train(printing_or_food(), word_vectors=False)
    with_encoder._model.threshold = 2.0  # always ask the encoder: this is its test, not the cascade's
    assert words_only.parse_text(text)["intent"]["name"] != intent
    result = with_encoder.parse_text(text)
    assert result["intent"]["name"] == intent
    assert set(result) == {"text", "intent", "entities", "intent_ranking"}  # Rasa's /model/parse shape


def test_the_cascade_asks_the_encoder_only_when_the_fast_model_is_unsure() -> None:
    parser = EmbeddedParser.train(printing_or_food())
    model = parser._model
    calls = model.encoder_calls
    sure = parser.parse_text("the printer is jammed")
    assert sure["intent"]["confidence"] >= model.threshold and model.encoder_calls == calls
    model.threshold = 2.0
    parser.parse_text("the printer is jammed")
    assert model.encoder_calls == calls + 1
