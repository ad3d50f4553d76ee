"""Static word vectors that give the NLU's fast path the meaning of words it never saw in training.

With a few dozen examples per intent, a bag of n-grams knows only the words
someone wrote down: "certainly" is not "sure", "leaving for the day" is not
"bye". Each token of the encoder's vocabulary (word pieces, plus the whole
words of ``intents/`` and ``data/kb/``) has a 256-number vector, so that
words of similar meaning lie close together; a message is the mean of its
tokens' vectors, normalised to length 1. A word not in the list ("alrighty",
a typo) is spelled from word pieces ("alright", "##y"), so no message of
real words is left without a vector.

The vectors ship with the package in ``bot/nlu/static/``, made once by
``scripts/build_word_vectors.py`` with model2vec (MIT) from all-MiniLM-L6-v2
(Apache-2.0): ``model.safetensors`` (int8, frequent tokens weighted down),
``tokenizer.json`` and ``config.json``. They are read here with safetensors
and tokenizers, as model2vec's ``StaticModel`` reads them, without importing
model2vec (its import alone costs about a second of start-up). A sentence
vector costs tens of microseconds, a hundred times less than the contextual
encoder (``bot.nlu.encoder``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_DIR", "WordVectors", "default_vectors"]

DEFAULT_DIR = Path(__file__).with_name("static")
EMBEDDINGS, TOKENIZER = "model.safetensors", "tokenizer.json"
# Long messages are cut, as model2vec does by default.
MAX_TOKENS = 512

log = logging.getLogger(__name__)


class WordVectors:
    """A token -> vector table and its tokenizer; read-only once loaded."""

    def __init__(self, folder: Path = DEFAULT_DIR) -> None:
        """Read the folder written by ``scripts/build_word_vectors.py`` (``OSError`` when it cannot)."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        try:
            embeddings = load_file(str(folder / EMBEDDINGS))["embeddings"]
            self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        except Exception as exc:  # safetensors and tokenizers raise their own types for a bad file
            raise OSError(f"cannot load the word vectors in {folder}: {exc}") from exc
        self._embeddings = embeddings  # int8 as stored (one global scale, which normalising cancels)
        self._unknown = self._tokenizer.token_to_id("[UNK]")
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self.identity = hashlib.sha256((folder / EMBEDDINGS).read_bytes()).hexdigest()[:16]

    @property
    def dimensions(self) -> int:
        """How many numbers each vector has."""
        return int(self._embeddings.shape[1])

    def token_ids(self, text: str) -> list[int]:
        """The vocabulary rows of ``text``'s tokens (unknown tokens left out)."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return [token for token in ids if token != self._unknown]

    def sentence(self, text: str) -> np.ndarray | None:
        """The unit-length mean of the tokens' vectors, or None when no token has one."""
        ids = self.token_ids(text)
        if not ids:
            return None
        vector = self._embeddings[ids].astype(np.float32).mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else None

    def sentences(self, texts: list[str]) -> np.ndarray:
        """``sentence`` of each text as rows of a matrix; rows without any known token are zero."""
        matrix = np.zeros((len(texts), self.dimensions), dtype=np.float64)
        for row, text in enumerate(texts):
            vector = self.sentence(text)
            if vector is not None:
                matrix[row] = vector
        return matrix


@functools.cache
def default_vectors() -> WordVectors | None:
    """The vectors shipped with the package, loaded once; None (with a warning) when the files are missing."""
    try:
        return WordVectors(DEFAULT_DIR)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        log.warning("no word vectors (%s): the embedded parser's fast path knows only the words of its data", exc)
        return None
