"""Pretrained word vectors that give the embedded parser the meaning of words it never saw in training.

With a few dozen examples per intent, a bag of n-grams knows only the words
someone wrote down: "certainly" is not "sure", "leaving for the day" is not
"bye". Each word of a general English vocabulary (plus the words of
``intents/`` and ``data/kb/``) has a 256-number vector, so that words of
similar meaning lie close together. A message becomes the weighted mean of
its words' vectors (frequent words weigh less: smooth inverse frequency,
``a / (a + p(word))``), normalised to length 1. A word not in the list
("alrighty", a typo) is spelled from the encoder's word pieces ("alright",
"##y") and counts as the mean of their vectors, so no message of real words
is left without a vector.

The vectors ship with the package: ``word_vectors.npy``, int8, about 9 MB,
mapped into memory rather than read, so a process holds only the rows it
used; and ``word_vectors.npz`` with the words, one scale and one weight per
word. They were made once by ``scripts/build_word_vectors.py``
from the all-MiniLM-L6-v2 sentence encoder (Apache-2.0), each word encoded
alone and reduced to 256 dimensions by PCA; the word list and frequencies
come from wordfreq (data CC BY-SA 4.0). Using them needs numpy only.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_PATH", "TOKEN", "WordVectors", "default_vectors", "tokens"]

DEFAULT_PATH = Path(__file__).with_name("word_vectors.npz")
VECTORS_SUFFIX = ".npy"
TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
CONTINUATION = "##"
# The weight of a word spelled from pieces: as much as a rare listed word, less sure of its meaning.
SPELLED_WEIGHT = 0.5
MAX_SPELLED_CHARS = 30

log = logging.getLogger(__name__)


def tokens(normalised_text: str) -> list[str]:
    """The words of lower-cased, accent-free text, as the vector vocabulary spells them ("don't" stays whole)."""
    return TOKEN.findall(normalised_text)


class WordVectors:
    """A word → vector table with one weight per word; read-only once loaded."""

    def __init__(self, words: list[str], quantised: np.ndarray, scale: np.ndarray, weight: np.ndarray,
                 identity: str) -> None:
        self.index = {word: row for row, word in enumerate(words)}
        self.quantised = quantised
        self.scale = scale.astype(np.float32)
        self.weight = weight.astype(np.float32)
        self.identity = identity

    @staticmethod
    def vectors_path(path: Path) -> Path:
        """Where the int8 matrix of the vectors file ``path`` lies."""
        return Path(path).with_suffix(VECTORS_SUFFIX)

    @property
    def dimensions(self) -> int:
        """How many numbers each vector has."""
        return int(self.quantised.shape[1])

    @classmethod
    def load(cls, path: Path) -> WordVectors:
        """Read the files written by ``scripts/build_word_vectors.py``."""
        quantised = np.load(cls.vectors_path(path), mmap_mode="r", allow_pickle=False)
        with np.load(path, allow_pickle=False) as stored:
            words = str(stored["words"]).split("\n")
            if len(words) != quantised.shape[0]:
                raise ValueError(f"{path} has {len(words)} words for {quantised.shape[0]} vectors")
            return cls(words, quantised, stored["scale"], stored["weight"], identity=str(stored["identity"]))

    def sentence(self, normalised_text: str) -> np.ndarray | None:
        """The unit-length weighted mean of the words' vectors, or None when no word has one."""
        rows: list[int] = []
        weights: list[float] = []
        for word in tokens(normalised_text):
            row = self.index.get(word)
            if row is not None:
                rows.append(row)
                weights.append(float(self.weight[row] * self.scale[row]))
                continue
            pieces = self.pieces(word)
            for piece in pieces:
                rows.append(piece)
                weights.append(SPELLED_WEIGHT * float(self.scale[piece]) / len(pieces))
        if not rows:
            return None
        vector = np.asarray(weights, dtype=np.float32) @ self.quantised[rows].astype(np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else None

    def pieces(self, word: str) -> list[int]:
        """The rows of the word pieces that spell ``word``, longest first (WordPiece); [] when they cannot."""
        if len(word) > MAX_SPELLED_CHARS:
            return []
        rows: list[int] = []
        start = 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else CONTINUATION + word[start:end]
                row = self.index.get(piece)
                if row is not None:
                    rows.append(row)
                    start = end
                    break
            else:
                return []
        return rows

    def sentences(self, normalised_texts: list[str]) -> np.ndarray:
        """``sentence`` of each text as rows of a matrix; rows of unknown words only are zero."""
        matrix = np.zeros((len(normalised_texts), self.dimensions), dtype=np.float64)
        for row, text in enumerate(normalised_texts):
            vector = self.sentence(text)
            if vector is not None:
                matrix[row] = vector
        return matrix


@functools.cache
def default_vectors() -> WordVectors | None:
    """The vectors shipped with the package, loaded once; None (with a warning) when the files are missing."""
    try:
        return WordVectors.load(DEFAULT_PATH)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("no word vectors (%s): the embedded parser knows only the words of its training data", exc)
        return None
