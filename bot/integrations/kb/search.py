"""The knowledge base: Markdown how-to articles with YAML front matter, searched with BM25 and sentence vectors.

Each article is indexed as three bm25s fields: its title with its sample
``questions:`` (alternative phrasings, as FAQ bots keep them), its tags with
its ``systems``, and its body. Text is lower-cased, stop words are dropped and
words are Snowball-stemmed (PyStemmer, as bm25s uses it; a plural trim
without it). A question is read the same way, a misspelt word is corrected to
a title/tag/synonym word one edit away, and the question is expanded with the
system synonyms of ``intents/`` (surface -> canonical system, and a little of
canonical -> surfaces) and with a small hand-written IT thesaurus. The field
scores are summed with weights; articles about the NLU's ``system`` entity
get a boost.

The search is hybrid: beside BM25, each article's title, listed questions,
keywords (tags and systems) and summary are sentence vectors of the
contextual encoder (``bot.nlu.encoder``), so a question that shares no word
with an article still finds it by meaning. An article's dense score is the
cosine of its closest text; the two are fused by a weighted sum of the BM25
score (divided by the best one) and the cosine. Article vectors are kept in
``cache_dir`` between runs.

Each hit carries a ``confidence`` in [0, 1], the judge of whether the
article answers the question: a logistic function of the cosine and of the
IDF-weighted share of the question's informative words the article contains
(itself or by synonym). ``best`` answers only from ``ANSWER_CONFIDENCE``;
otherwise the caller says honestly that there is no guide (and may offer the
hits above ``OFFER_CONFIDENCE``). Without the encoder files, the search is
BM25 alone and the confidence is 1 or 0 by the older rule: score at least
``ANSWER_SCORE`` and coverage at least ``ANSWER_COVERAGE``.
"""


from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.core.text import deletions
from bot.integrations.kb.articles import Article, _front_matter_line, parse_article
from bot.integrations.kb.index import _correct, _Field, _Index, _top, _VectorCache
from bot.integrations.kb.judge import confidence
from bot.integrations.kb.thesaurus import _THESAURUS
from bot.integrations.kb.tuning import (
    AMONG_MARGIN,
    ANSWER_CONFIDENCE,
    DENSE_FLOOR,
    DENSE_WEIGHT,
    FIELD_WEIGHTS,
    REVERSE_WEIGHT,
    SPELLING_WEIGHT,
    SYNONYM_WEIGHT,
    SYSTEM_BOOST,
    THESAURUS_WEIGHT,
    TIE_CONFIDENCE,
    TIE_SCORE,
)
from bot.integrations.kb.words import (
    _APOSTROPHE,
    _STOPWORDS,
    _WORD,
    _Concept,
    _normalize,
    _phrase_pattern,
    _stem,
    _words,
    tokenize,
    without_feared,
)
from bot.nlu.encoder import SentenceEncoder, default_encoder

__all__ = ["Hit", "KnowledgeBase"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """An article, its fused search score, and how sure the knowledge base is that it answers the question.

    ``confidence`` is in [0, 1]: at least ``ANSWER_CONFIDENCE``, answer with the
    article; at least ``OFFER_CONFIDENCE``, offer it among choices; below, it
    is no answer.
    """

    article: Article
    score: float
    confidence: float = 0.0



@dataclass
class KnowledgeBase:
    """The articles of one folder and their BM25 index.

    ``synonyms`` maps a lower-cased surface to its canonical system name, as
    the NLU data in ``intents/synonyms.yml`` does (``e-mail`` -> ``outlook``).
    ``load`` may run in a thread while questions are answered: the new index
    replaces the old one in a single assignment.
    """

    folder: Path
    base_url: str | None = None
    synonyms: dict[str, str] | None = None
    articles: list[Article] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dense: bool = True
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self._build_expansions()
        self._index = _Index()
        self._encoder: SentenceEncoder | None = default_encoder() if self.dense else None

    def article(self, article_id: object) -> Article | None:
        """The loaded article with id ``article_id``, if any."""
        return next((article for article in self.articles if article.id == article_id), None)

    # -- loading ---------------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)read the folder. A broken article is reported in ``errors``; the rest still load."""
        articles: list[Article] = []
        errors: list[str] = []
        seen: dict[str, str] = {}
        for path in sorted(self.folder.glob("*.md")) if self.folder.is_dir() else []:
            try:
                article = parse_article(path)
                if article.id in seen:
                    line = _front_matter_line(path.read_text(encoding="utf-8"), "id")
                    raise ValueError(f"{path}:{line}: id '{article.id}' is already used by {seen[article.id]}")
            except (ValueError, OSError, UnicodeDecodeError) as exc:
                errors.append(str(exc))
                log.warning("knowledge base: %s", exc)
                continue
            seen[article.id] = str(path)
            articles.append(article)
        self.index(articles)
        self.errors = errors

    def index(self, articles: Iterable[Article]) -> None:
        """Index ``articles`` in place of the current ones (``load`` reads them from the folder)."""
        articles = tuple(articles)
        docs: dict[str, list[list[str]]] = {name: [] for name in FIELD_WEIGHTS}
        df: Counter[str] = Counter()
        terms: list[frozenset[str]] = []
        known: Counter[str] = Counter()
        for article in articles:
            texts = {
                "title": "\n".join((article.title, *article.questions)),
                "tags": "\n".join((*article.tags, *article.systems)),
                "body": article.body,
            }
            article_terms: set[str] = set()
            for name, text in texts.items():
                words = [w for w in _words(text) if w not in _STOPWORDS]
                if name != "body":
                    known.update(words)
                tokens = [_stem(w) for w in words]
                docs[name].append(tokens)
                article_terms.update(tokens)
            terms.append(frozenset(article_terms))
            df.update(article_terms)
        for phrase in self._expansions:
            known.update(w for w in _words(phrase) if w not in _STOPWORDS)
        deletes: dict[str, str] = {}
        for word, _count in sorted(known.items(), key=lambda item: (-item[1], item[0])):
            if len(word) >= 4 and not word.isdigit():
                deletes.setdefault(word, word)
                for variant in deletions(word):
                    deletes.setdefault(variant, word)
        rows: dict[str, list[int]] = {}
        for row, article in enumerate(articles):
            for system in article.systems:
                rows.setdefault(system, []).append(row)
        vectors, vector_rows = self._vectors(articles)
        self._index = _Index(
            articles=articles,
            fields={name: _Field(documents) for name, documents in docs.items()} if articles else {},
            df=dict(df),
            terms=tuple(terms),
            known={word: _stem(word) for word in known},
            deletes=deletes,
            system_rows={system: np.asarray(r, dtype=np.int64) for system, r in rows.items()},
            vectors=vectors,
            vector_rows=vector_rows,
        )
        self.articles = list(articles)

    def _vectors(self, articles: tuple[Article, ...]) -> tuple[np.ndarray | None, np.ndarray]:
        """The sentence vectors of each article's title, questions, keywords and summary, and their article rows."""
        if self._encoder is None or not articles:
            return None, np.zeros(0, dtype=np.int64)
        texts: list[str] = []
        rows: list[int] = []
        for row, article in enumerate(articles):
            keywords = ", ".join((*article.tags, *article.systems))
            for text in (article.title, *article.questions, keywords, article.summary()):
                if text.strip():
                    texts.append(text)
                    rows.append(row)
        return _VectorCache(self._encoder, self.cache_dir).vectors(texts), np.asarray(rows, dtype=np.int64)

    def _build_expansions(self) -> None:
        """Phrase -> [(words, weight)], from the system synonyms and the IT thesaurus."""
        expansions: dict[str, list[tuple[str, float]]] = {}
        surfaces: dict[str, list[str]] = {}
        for surface, canonical in (self.synonyms or {}).items():
            surface, canonical = str(surface).strip().lower(), str(canonical).strip().lower()
            if surface and canonical:
                surfaces.setdefault(canonical, []).append(surface)
                if surface != canonical:
                    expansions.setdefault(surface, []).append((canonical, SYNONYM_WEIGHT))
        for canonical, names in surfaces.items():
            share = REVERSE_WEIGHT / len(names)  # canonical -> its surfaces, lightly
            expansions.setdefault(canonical, []).extend((name, share) for name in names if name != canonical)
        for words, phrases in _THESAURUS:
            for phrase in phrases:
                expansions.setdefault(phrase, []).append((words, THESAURUS_WEIGHT))
        self._expansions = expansions
        self._canonical = {c: c for c in surfaces} | {s: c for c, names in surfaces.items() for s in names}
        self._phrases = _phrase_pattern(expansions)

    # -- searching -------------------------------------------------------------------------------

    def search(self, question: str, *, systems: tuple[str, ...] = (), limit: int = 3) -> list[Hit]:
        """The best articles for ``question``, best first, each with its confidence; those about ``systems``
        get a boost. A trouble only feared ("rather than get locked out later") is not searched for."""
        index = self._index
        scores, own, cosine = self._rank(index, without_feared(question), systems)
        return [Hit(index.articles[row], float(scores[row]), confidence(index, own, row, scores, cosine))
                for row in _top(scores, limit)]

    def best(self, question: str, *, systems: tuple[str, ...] = (), floor: float | None = None,
             among: int = 1) -> Hit | None:
        """The top hit when the judge says it answers the question (confidence >= ``floor``, by default
        ``ANSWER_CONFIDENCE``), else None (no bad guess). With ``among``, the surest of that many top hits (for
        a question whose words lean on what it is about: "Reset my password: ... doesnt meet requirements"), the
        first one keeping a near tie (``AMONG_MARGIN``). Without, of two hits tied in the ranking (``TIE_SCORE``), the
        one the judge is clearly surer of (``TIE_CONFIDENCE``)."""
        hits = self.search(question, systems=systems, limit=max(among, 2))
        hit = hits[0] if hits else None
        for other in hits[1:among]:
            if hit is not None and other.confidence > hit.confidence + AMONG_MARGIN:
                hit = other
        if among == 1 and len(hits) > 1 and hit is not None and hits[0].score - hits[1].score <= TIE_SCORE \
                and hits[1].confidence >= hit.confidence + TIE_CONFIDENCE:
            hit = hits[1]  # a tie in the ranking, which the judge breaks
        if hit is None or hit.confidence < (ANSWER_CONFIDENCE if floor is None else floor):
            return None
        return hit

    def best_of(self, *questions: str, systems: tuple[str, ...] = (), floor: float | None = None,
                among: int = 1) -> Hit | None:
        """The answer to the first of ``questions`` that the judge says has one (confidence >= ``floor``), or
        None. Callers pass the whole message first and the request found in it second: the context around a
        request often names the guide better than the request alone ("the screens in chambers ... how do i get
        my laptop on them"), and a request alone can be too short to judge ("anyone else having this")."""
        for text in dict.fromkeys(questions):
            if text and (hit := self.best(text, systems=systems, floor=floor, among=among)) is not None:
                return hit
        return None

    def _rank(self, index: _Index, question: str,
              systems: tuple[str, ...]) -> tuple[np.ndarray, list[_Concept], np.ndarray | None]:
        """Every article's fused score, the question's informative words, and each article's cosine
        (None when the search is by words only)."""
        lexical, own = self._score(index, question, systems)
        if index.vectors is None or self._encoder is None or not own:
            return self._boost(index, lexical, systems), own, None
        sims = index.vectors @ self._encoder.one(question)
        cosine = np.full(len(index.articles), -1.0)
        np.maximum.at(cosine, index.vector_rows, sims.astype(np.float64))
        top = float(lexical.max())
        fused = (1.0 - DENSE_WEIGHT) * (lexical / top if top > 0 else lexical) + DENSE_WEIGHT * np.clip(cosine, 0, 1)
        fused[(lexical <= 0) & (cosine < DENSE_FLOOR)] = 0.0
        return self._boost(index, fused, systems), own, cosine

    def link(self, article: Article) -> str | None:
        """Where to read the whole article."""
        if article.url:
            return article.url
        if self.base_url:
            return f"{self.base_url.rstrip('/')}/{article.id}"
        return None

    def _score(self, index: _Index, question: str, systems: tuple[str, ...]) -> tuple[np.ndarray, list[_Concept]]:
        scores = np.zeros(len(index.articles), dtype=np.float64)
        if not index.articles:
            return scores, []
        weights, own = self._query(index, question, systems)
        for name, field_weight in FIELD_WEIGHTS.items():
            postings = index.fields[name]
            for token, weight in weights.items():
                postings.add_scores(scores, token, field_weight * weight)
        return scores, own

    def _boost(self, index: _Index, scores: np.ndarray, systems: tuple[str, ...]) -> np.ndarray:
        """``scores`` with the articles about ``systems`` raised by ``SYSTEM_BOOST``."""
        for system in {self._canonical.get(s.strip().lower(), s.strip().lower()) for s in systems if s}:
            rows = index.system_rows.get(system)
            if rows is not None:
                scores[rows] *= 1.0 + SYSTEM_BOOST
        return scores

    def _query(self, index: _Index, question: str,
               systems: tuple[str, ...]) -> tuple[dict[str, float], list[_Concept]]:
        """The weighted query tokens, and the question's own words with what they expand to."""
        weights: dict[str, float] = {}
        own: list[_Concept] = []
        spans: list[tuple[int, int]] = []

        def add(token: str, weight: float) -> None:
            if weight > weights.get(token, 0.0):
                weights[token] = weight

        text = _APOSTROPHE.sub("", question.lower())
        for match in _WORD.finditer(_normalize(text)):
            word = match.group(0)
            if word in _STOPWORDS:
                continue
            stem = _stem(word)
            weight = 1.0
            if stem not in index.df and word not in index.known and not word.isdigit():
                fixed = _correct(index, word)
                if fixed is not None:
                    stem, weight = fixed, SPELLING_WEIGHT
            add(stem, weight)
            own.append(_Concept(stem))
            spans.append(match.span())
        if self._phrases is not None:
            for match in self._phrases.finditer(text):
                tokens = [(token, weight) for words, weight in self._expansions[match.group(0)]
                          for token in tokenize(words)]
                for token, weight in tokens:
                    add(token, weight)
                for concept, (start, end) in zip(own, spans, strict=False):
                    if start >= match.start() and end <= match.end():
                        concept.also.update(token for token, _weight in tokens)
        for system in systems:
            for token in tokenize(system):
                add(token, SYNONYM_WEIGHT)
        return weights, own
