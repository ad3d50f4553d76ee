"""What the knowledge-base search reads: the bm25s field indexes and the article vectors (cached on disk)."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from bot.core.text import deletions, within_one_edit
from bot.integrations.kb.articles import Article
from bot.integrations.kb.tuning import BM25_B, BM25_K1
from bot.nlu.encoder import SentenceEncoder

__all__: list[str] = []

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)


class _Field:
    """One bm25s index over one field of every article, read as its sparse token -> (article, score) lists."""

    def __init__(self, documents: list[list[str]]) -> None:
        index = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        index.index([doc or [""] for doc in documents], show_progress=False)
        self.vocab: dict[str, int] = index.vocab_dict
        self.data = np.asarray(index.scores["data"], dtype=np.float64)
        self.indices = np.asarray(index.scores["indices"], dtype=np.int64)
        self.indptr = np.asarray(index.scores["indptr"], dtype=np.int64)

    def add_scores(self, scores: np.ndarray, token: str, weight: float) -> None:
        """Add ``weight`` x this token's BM25 score to every article that has it."""
        tid = self.vocab.get(token)
        if tid is not None:
            start, end = self.indptr[tid], self.indptr[tid + 1]
            scores[self.indices[start:end]] += weight * self.data[start:end]


@dataclass(frozen=True)
class _Index:
    """Everything ``search`` reads, built at once and swapped in with one assignment."""

    articles: tuple[Article, ...] = ()
    fields: dict[str, _Field] = field(default_factory=dict)
    df: dict[str, int] = field(default_factory=dict)  # stem -> how many articles have it
    terms: tuple[frozenset[str], ...] = ()  # each article's stems
    known: dict[str, str] = field(default_factory=dict)  # title/tag/synonym word -> stem, to correct to
    deletes: dict[str, str] = field(default_factory=dict)  # known word minus one letter -> known word
    system_rows: dict[str, np.ndarray] = field(default_factory=dict)  # system -> rows of its articles
    vectors: np.ndarray | None = None  # (texts, dimensions): the sentence vectors of every article's texts
    vector_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # text -> article row




class _VectorCache:
    """Sentence vectors of article texts, kept in ``cache_dir`` between runs so a restart encodes only new text."""

    def __init__(self, encoder: SentenceEncoder, cache_dir: Path | None) -> None:
        self.encoder = encoder
        name = "kb-vectors-" + re.sub(r"[^a-z0-9]+", "-", encoder.identity.lower()) + ".npz"
        self.path = Path(cache_dir) / name if cache_dir else None

    def vectors(self, texts: list[str]) -> np.ndarray:
        """One row per text: from the cache file where it has the text, encoded (and saved) otherwise."""
        known = self._read()
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            known.update(zip(missing, self.encoder.encode(missing), strict=True))
            self._write({text: known[text] for text in texts})
        return np.vstack([known[text] for text in texts]).astype(np.float32)

    def _read(self) -> dict[str, np.ndarray]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                texts = json.loads(str(stored["texts"]))
                matrix = stored["vectors"]
                if len(texts) != len(matrix) or matrix.shape[1:] != (self.encoder.dimensions,):
                    raise ValueError("the texts and the vectors do not match")
                return dict(zip(texts, matrix, strict=True))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("knowledge base: vector cache %s is unreadable (%s); encoding again", self.path, exc)
            return {}

    def _write(self, vectors: dict[str, np.ndarray]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as file:
                np.savez(file, texts=np.array(json.dumps(list(vectors))), vectors=np.vstack(list(vectors.values())))
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("knowledge base: cannot cache article vectors in %s: %s", self.path.parent, exc)


def _top(scores: np.ndarray, limit: int) -> list[int]:
    """The rows of the ``limit`` best positive scores, best first (ties keep file order)."""
    if limit <= 0 or not len(scores):
        return []
    if limit < len(scores):
        rows = np.argpartition(-scores, limit - 1)[:limit]
        rows = rows[np.lexsort((rows, -scores[rows]))]
    else:
        rows = np.argsort(-scores, kind="stable")
    return [int(row) for row in rows if scores[row] > 0]


def _correct(index: _Index, word: str) -> str | None:
    """The stem of a known word one edit away from ``word``, if any.

    Only words of five letters or more are corrected, never in their first
    letter, and a word is shortened only from six letters: short words are
    too often another real word ("hall" is not "call").
    """
    if len(word) < 5:
        return None
    for variant in (word, *deletions(word)):
        known = index.deletes.get(variant)
        if (known is not None and known[0] == word[0] and word != known and within_one_edit(word, known)
                and (len(known) >= len(word) or len(word) >= 6)):
            return index.known[known]
    return None
