"""The embedded NLU: a scikit-learn intent classifier and a dictionary/regex entity matcher.

Entities are found first; ticket keys are replaced by ``__ticket_key__`` in
the text the classifier sees. Training fits TF-IDF features (word 1-2 grams
and char_wb 1-4 grams, so typos and case do not matter much) and two
logistic regressions, a cascade: the fast one on the n-grams and the
message's mean pretrained word vector (``bot.nlu.word_vectors``, so that
words of similar meaning count alike), the full one on the n-grams and the
contextual sentence vector (``bot.nlu.encoder``). A parse asks the encoder
only when the fast model's top intent is below ``CASCADE_THRESHOLD``.
Parsing does not go through scikit-learn: the fitted vocabularies, IDF
weights and coefficients are kept and the sparse dot product is done here,
which keeps a parse well under a millisecond.

The fitted model is cached on disk under a fingerprint of the training data,
so a restart with unchanged data loads it with numpy alone (no scikit-learn
import, no training): faster start-up and a smaller process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.errors import ConfigError
from bot.core.parse import Entity, IntentScore, ParseResult
from bot.core.text import deletions, fold_case, within_one_edit
from bot.nlu.encoder import SentenceEncoder, default_encoder
from bot.nlu.training_data import TrainingData
from bot.nlu.word_vectors import WordVectors, default_vectors

__all__ = ["EXTRACTOR", "OUT_OF_SCOPE", "EmbeddedParser", "char_grams", "fingerprint", "word_grams"]

OUT_OF_SCOPE = "out_of_scope"
EXTRACTOR = "RegexEntityExtractor"
RANKING_SIZE = 10
UPPER_CASE_ENTITIES = frozenset({"ticket_key"})
FUZZY_MIN_CHARS = 6

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"(?u)\b\w+\b")
_SPACES = re.compile(r"\s\s+")
MODEL_VERSION = 4
# Inverse regularisation: 10 and 30 cross-validate alike on intents/ (macro-F1 0.870 and 0.875), 10 trains
# in half the time.
C = 10.0
# How much the word-vector block counts beside the two TF-IDF blocks (each of length 1), chosen by
# 5-fold cross-validation on intents/ with the earlier hand-made vectors: 0 gave macro-F1 0.845, 0.5 0.856,
# 1 0.873, 2 0.868 (at C=30). With the model2vec vectors the fast model alone scores 0.864 (dev 0.948).
VECTOR_WEIGHT = 1.0
# How much the sentence-vector block counts beside the n-grams, by 5-fold cross-validation on intents/
# (macro-F1, full model): 0.5 0.886, 1 0.913, 2 0.900. The dev set intents/test/ agreed (0.967, 0.971, 0.962).
ENCODER_WEIGHT = 1.0
# How sure the fast model must be to answer without the encoder. Cross-validated macro-F1 and the share of
# parses that ask the encoder: 0.5 0.901 (20%), 0.6 0.905 (27%), 0.7 0.910 (35%), 0.8 0.912 (47%), always 0.913;
# on intents/test/ 0.971 from 0.7 up (22% at 0.7). Word vectors in the full model lowered it (0.900); without
# them the fast model is less often sure (58% of parses would ask the encoder at 0.8).
CASCADE_THRESHOLD = 0.7

log = logging.getLogger(__name__)


def word_grams(text: str) -> list[str]:
    """Word 1- and 2-grams."""
    tokens = _TOKEN.findall(fold_case(text))
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def char_grams(text: str) -> list[str]:
    """Character 1- to 4-grams inside word boundaries (scikit-learn's ``char_wb``)."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", fold_case(text)).split():
        padded = f" {word} "
        for n in range(1, 5):
            if len(padded) < n:
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


ANALYZERS: dict[str, Callable[[str], list[str]]] = {"word": word_grams, "char": char_grams}


@dataclass(frozen=True)
class _Block:
    """One fitted TF-IDF vectorizer, reduced to what a parse needs."""

    kind: str
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int

    def analyze(self, text: str) -> list[str]:
        """The features of ``text`` this block counts."""
        return ANALYZERS[self.kind](text)


class _IntentModel:
    """TF-IDF blocks, word vectors and sentence vectors, and two linear models over them, scored by hand.

    The fast model reads the n-grams (and word vectors); the full model reads
    those and the contextual sentence vector. Their weights sit side by side
    in one matrix, so one sparse gather scores both. A parse asks the encoder
    only when the fast model is less sure than ``threshold``.
    """

    def __init__(self, blocks: list[_Block], coef: np.ndarray, intercept: np.ndarray, classes: list[str],
                 vectors: WordVectors | None = None, encoder: SentenceEncoder | None = None,
                 threshold: float = CASCADE_THRESHOLD) -> None:
        self.blocks = blocks
        self.coef = coef  # (n_features, n_classes) or (n_features, 2 n_classes): fast | full; C-contiguous
        self.intercept = intercept
        self.classes = classes
        self.vectors = vectors
        self.encoder = encoder
        self.threshold = threshold
        # The dense rows come last: word vectors, then the sentence vector (full model only).
        self.vector_offset = sum(len(block.vocabulary) for block in blocks)
        self.encoder_offset = self.vector_offset + (vectors.dimensions if vectors else 0)
        self.encoder_calls = 0

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], c: float = C, vectors: WordVectors | None = None,
            encoder: SentenceEncoder | None = None, threshold: float = CASCADE_THRESHOLD) -> _IntentModel:
        """Fit the vectorizers and the logistic regression(s) on the examples."""
        # Imported here: scikit-learn takes over a second to import and parsing never needs it.
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer

        kinds = list(ANALYZERS)
        vectorizers = [TfidfVectorizer(analyzer=ANALYZERS[kind], sublinear_tf=True) for kind in kinds]
        grams = [vectorizer.fit_transform(texts) for vectorizer in vectorizers]
        words = [csr_matrix(VECTOR_WEIGHT * vectors.sentences([fold_case(t) for t in texts]))] if vectors else []
        classes, coef, intercept = _logistic(hstack(grams + words, format="csr"), labels, c)
        if encoder is not None:
            # The full model reads the n-grams and the sentence vector; the word vectors add nothing beside it.
            sentences = csr_matrix(ENCODER_WEIGHT * encoder.encode(texts).astype(np.float64))
            _, full, full_intercept = _logistic(hstack([*grams, sentences], format="csr"), labels, c)
            grams_rows = sum(matrix.shape[1] for matrix in grams)
            word_rows = words[0].shape[1] if words else 0
            full = np.vstack([full[:grams_rows], np.zeros((word_rows, full.shape[1])), full[grams_rows:]])
            coef = np.hstack([np.vstack([coef, np.zeros((sentences.shape[1], coef.shape[1]))]), full])
            intercept = np.concatenate([intercept, full_intercept])
        blocks = []
        offset = 0
        for kind, vectorizer in zip(kinds, vectorizers, strict=True):
            vocabulary = {str(gram): int(index) for gram, index in vectorizer.vocabulary_.items()}
            blocks.append(_Block(kind, vocabulary, vectorizer.idf_.astype(np.float64), offset))
            offset += len(vectorizer.vocabulary_)
        return cls(blocks, np.ascontiguousarray(coef, dtype=np.float64), intercept, classes, vectors, encoder,
                   threshold)

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (an ``.npz`` file), atomically."""
        header = {"classes": self.classes, "vectors": self.vectors.identity if self.vectors else None,
                  "encoder": self.encoder.identity if self.encoder else None, "threshold": self.threshold,
                  "blocks": [{"kind": b.kind, "vocabulary": b.vocabulary, "offset": b.offset} for b in self.blocks]}
        arrays: dict[str, Any] = {f"idf{i}": block.idf for i, block in enumerate(self.blocks)}
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, header=np.array(json.dumps(header)), coef=self.coef, intercept=self.intercept, **arrays)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path, vectors: WordVectors | None = None,
             encoder: SentenceEncoder | None = None) -> _IntentModel:
        """Read a model written by ``save``, trained with ``vectors`` and ``encoder`` (``ValueError`` when not)."""
        with np.load(path, allow_pickle=False) as stored:
            header = json.loads(str(stored["header"]))
            if header.get("vectors") != (vectors.identity if vectors else None):
                raise ValueError("it was trained with other word vectors")
            if header.get("encoder") != (encoder.identity if encoder else None):
                raise ValueError("it was trained with another sentence encoder")
            blocks = [_Block(b["kind"], b["vocabulary"], stored[f"idf{i}"], b["offset"])
                      for i, b in enumerate(header["blocks"])]
            return cls(blocks, np.ascontiguousarray(stored["coef"]), stored["intercept"], header["classes"], vectors,
                       encoder, float(header["threshold"]))

    def probabilities(self, text: str) -> np.ndarray:
        """Class probabilities for ``text``, in the order of ``classes``."""
        logits = self.intercept.copy()
        for block in self.blocks:
            counts = Counter(gram for gram in block.analyze(text) if gram in block.vocabulary)
            if not counts:
                continue
            local = np.fromiter((block.vocabulary[gram] for gram in counts), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weights = (np.log(tf) + 1.0) * block.idf[local]
            weights /= math.sqrt(float(weights @ weights))
            logits += weights @ self.coef[local + block.offset]
        if self.vectors is not None:
            sentence = self.vectors.sentence(fold_case(text))
            if sentence is not None:
                logits += VECTOR_WEIGHT * (sentence @ self.coef[self.vector_offset : self.encoder_offset])
        size = len(self.classes)
        fast = _softmax(logits[:size])
        if self.encoder is None or fast.max() >= self.threshold:
            return fast
        self.encoder_calls += 1
        full = logits[size:] + ENCODER_WEIGHT * (self.encoder.one(text) @ self.coef[self.encoder_offset :, size:])
        return _softmax(full)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp: np.ndarray = np.exp(logits - logits.max())
    shares: np.ndarray = exp / exp.sum()
    return shares


def _logistic(features: Any, labels: list[str], c: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Fit a logistic regression; its classes, weights (n_features, n_classes) and intercepts."""
    from sklearn.linear_model import LogisticRegression

    # saga is much faster than lbfgs here; tol=1e-3 is plenty for argmax and confidences.
    model = LogisticRegression(C=c, solver="saga", tol=1e-3, max_iter=5000, class_weight="balanced", random_state=0)
    model.fit(features, labels)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:
        # Two classes: sklearn keeps one weight vector w; softmax([-z/2, z/2]) == sigmoid(z).
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    return [str(label) for label in model.classes_], coef.T.astype(np.float64), intercept.astype(np.float64)


class _EntityMatcher:
    """Regex entities, then dictionary surfaces (longest first, one typo allowed when long)."""

    def __init__(self, data: TrainingData) -> None:
        self.synonyms = dict(data.synonyms)
        self.regexes = [(entity, re.compile(pattern, re.IGNORECASE))
                        for entity, patterns in sorted(data.regexes.items()) for pattern in patterns]
        self.regex_entities = {entity for entity, _ in self.regexes}
        self.surfaces: dict[str, tuple[str, str]] = {}
        for entity, surface in self._surfaces(data):
            key = " ".join(_words(surface))
            if key and key not in self.surfaces:
                self.surfaces[key] = (entity, self.synonyms.get(surface.strip().lower(), surface.strip().lower()))
        self.max_words = max((key.count(" ") + 1 for key in self.surfaces), default=0)
        self.known_words = {word for example in data.examples for word in _words(example.text)}
        self.known_words -= {word for key in self.surfaces for word in key.split()}
        self.deletions: dict[str, list[str]] = {}
        for key in self.surfaces:
            if len(key) >= FUZZY_MIN_CHARS:
                for variant in {key, *deletions(key)}:
                    self.deletions.setdefault(variant, []).append(key)

    def _surfaces(self, data: TrainingData) -> Iterable[tuple[str, str]]:
        """Every (entity, surface) pair known from lookups, annotations and synonyms."""
        value_entity: dict[str, str] = {}
        for entity, values in sorted(data.lookups.items()):
            for value in values:
                value_entity.setdefault(self.synonyms.get(value.lower(), value.lower()), entity)
                yield entity, value
        for example in data.examples:
            for annotation in example.entities:
                if annotation["entity"] in self.regex_entities:
                    continue
                value_entity.setdefault(str(annotation["value"]).lower(), annotation["entity"])
                yield annotation["entity"], example.text[annotation["start"] : annotation["end"]]
                yield annotation["entity"], str(annotation["value"])
        for surface, value in sorted(self.synonyms.items()):
            known = value_entity.get(value.lower())
            if known is not None:
                yield known, surface
                yield entity, value

    def extract(self, text: str) -> list[Entity]:
        """All entities in ``text``, sorted by position, never overlapping."""
        found: list[Entity] = []
        taken: list[tuple[int, int]] = []
        for entity, pattern in self.regexes:
            for match in pattern.finditer(text):
                start, end = match.span()
                if start == end or _overlaps(start, end, taken):
                    continue
                value = self.synonyms.get(match.group(0).lower(), match.group(0))
                if entity in UPPER_CASE_ENTITIES:
                    value = value.upper()
                found.append(_entity(entity, value, start, end))
                taken.append((start, end))
        found.extend(self._dictionary(text, taken))
        return sorted(found, key=lambda item: item["start"])

    def masked(self, text: str, entities: list[Entity]) -> str:
        """``text`` with each regex entity (a ticket key) replaced by ``__<entity>__``.

        Each ticket key is new, so its characters are noise to the classifier.
        Dictionary entities stay as words: masking them made the classifier
        learn "no known system, so not IT", and how-tos about systems missing
        from the lookups went to out_of_scope.
        """
        parts = []
        position = 0
        for entity in entities:
            if entity["entity"] in self.regex_entities:
                parts.append(text[position : entity["start"]])
                parts.append(f"__{entity['entity']}__")
                position = entity["end"]
        parts.append(text[position:])
        return "".join(parts)

    def _dictionary(self, text: str, taken: list[tuple[int, int]]) -> list[Entity]:
        words = [(match.group(0).lower(), match.start(), match.end()) for match in _WORD.finditer(text)]
        found: list[Entity] = []
        index = 0
        while index < len(words):
            hit = self._match_at(words, index)
            if hit is None:
                index += 1
                continue
            size, (entity, value) = hit
            start, end = words[index][1], words[index + size - 1][2]
            if _overlaps(start, end, taken):
                index += 1
                continue
            value = self.synonyms.get(text[start:end].lower(), value)
            found.append(_entity(entity, value, start, end))
            index += size
        return found

    def _match_at(self, words: list[tuple[str, int, int]], index: int) -> tuple[int, tuple[str, str]] | None:
        """The longest surface starting at word ``index``: exact first, then one typo."""
        longest = min(self.max_words, len(words) - index)
        candidates = [(size, " ".join(word for word, _, _ in words[index : index + size]))
                      for size in range(longest, 0, -1)]
        for size, candidate in candidates:
            if candidate in self.surfaces:
                return size, self.surfaces[candidate]
        for size, candidate in candidates:
            if len(candidate) < FUZZY_MIN_CHARS - 1 or any(word in self.known_words for word in candidate.split()):
                continue
            for variant in (candidate, *deletions(candidate)):
                for key in self.deletions.get(variant, ()):
                    if within_one_edit(candidate, key):
                        return size, self.surfaces[key]
        return None


class EmbeddedParser:
    """The default NLU: trained in-process at start-up from the Rasa YAML data."""

    def __init__(self, model: _IntentModel, matcher: _EntityMatcher, max_chars: int = 1000) -> None:
        self._model = model
        self._matcher = matcher
        self._max_chars = max_chars

    @classmethod
    def train(cls, data: TrainingData, max_chars: int = 1000, cache_dir: Path | None = None,
              word_vectors: bool = True, encoder: bool = True) -> EmbeddedParser:
        """Train on ``data``; raises ``ConfigError`` when there is nothing to learn from.

        With ``cache_dir``, a model trained earlier on the same data is loaded
        instead, and a newly trained one is saved there. ``word_vectors=False``
        leaves the static word vectors out of the fast model; ``encoder=False``
        leaves out the sentence encoder (the fast model alone, no cascade).
        """
        if len(data.intents) < 2:
            raise ConfigError(f"NLU training data needs at least two intents, found {data.intents or 'none'}")
        matcher = _EntityMatcher(data)
        vectors = default_vectors() if word_vectors else None
        sentences = default_encoder() if encoder else None
        cached = cache_dir / f"embedded-{fingerprint(data, vectors, sentences)}.npz" if cache_dir else None
        if cached is not None and cached.exists():
            try:
                return cls(_IntentModel.load(cached, vectors, sentences), matcher, max_chars)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("NLU cache %s is unreadable (%s); training again", cached, exc)
        texts = [matcher.masked(example.text, matcher.extract(example.text)) for example in data.examples]
        labels = [example.intent for example in data.examples]
        model = _IntentModel.fit(texts, labels, vectors=vectors, encoder=sentences)
        if cached is not None:
            try:
                model.save(cached)
            except OSError as exc:
                log.warning("cannot cache the NLU model in %s: %s", cache_dir, exc)
        return cls(model, matcher, max_chars)

    @property
    def name(self) -> str:
        """Always ``embedded``."""
        return "embedded"

    @property
    def ready(self) -> bool:
        """Always True: the model is trained before the parser exists."""
        return True

    @property
    def intents(self) -> list[str]:
        """The intents the model knows, sorted."""
        return list(self._model.classes)

    def parse_text(self, text: str) -> ParseResult:
        """Parse ``text`` now (synchronously); only the first ``max_chars`` characters are read."""
        head = text[: self._max_chars]
        if not head.strip() and OUT_OF_SCOPE in self._model.classes:
            return ParseResult(text=text, intent=IntentScore(name=OUT_OF_SCOPE, confidence=1.0), entities=[],
                               intent_ranking=[IntentScore(name=OUT_OF_SCOPE, confidence=1.0)])
        entities = self._matcher.extract(head)
        probabilities = self._model.probabilities(self._matcher.masked(head, entities))
        order = np.argsort(-probabilities, kind="stable")[:RANKING_SIZE]
        ranking = [IntentScore(name=self._model.classes[i], confidence=float(probabilities[i])) for i in order]
        top = ranking[0]
        return ParseResult(text=text, intent=IntentScore(name=top["name"], confidence=top["confidence"]),
                           entities=entities, intent_ranking=ranking)

    async def parse(self, text: str) -> ParseResult:
        """Parse ``text``; the work is CPU-bound and sub-millisecond, so it runs inline."""
        return self.parse_text(text)


def fingerprint(data: TrainingData, vectors: WordVectors | None = None, encoder: SentenceEncoder | None = None) -> str:
    """A short hash of everything training depends on: the data, the features, the word vectors, the
    sentence encoder and the model version."""
    content = json.dumps(
        [MODEL_VERSION, C, VECTOR_WEIGHT, vectors.identity if vectors else None,
         [ENCODER_WEIGHT, CASCADE_THRESHOLD, encoder.identity] if encoder else None, [asdict(e) for e in data.examples],
         data.synonyms, data.regexes, data.lookups],
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:20]


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _entity(entity: str, value: str, start: int, end: int) -> Entity:
    return Entity(entity=entity, value=value, start=start, end=end, extractor=EXTRACTOR)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)

