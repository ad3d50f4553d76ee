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

import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer
import yaml

from bot.nlu.encoder import SentenceEncoder, default_encoder
from bot.core.text import deletions, within_one_edit

__all__ = ["Article", "Hit", "KnowledgeBase", "parse_article", "tokenize"]

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Field weights of the summed bm25s scores; the weights of the words a question
# is expanded with (its own words weigh 1); the boost (x 1 + SYSTEM_BOOST) for
# articles about the NLU's system entity. Tuned on the even lines of
# data/kb_eval/dev.jsonl and checked on the odd ones.
FIELD_WEIGHTS = {"title": 0.6, "tags": 0.4, "body": 1.0}
BM25_K1, BM25_B = 1.5, 0.75
SYNONYM_WEIGHT = 0.4
REVERSE_WEIGHT = 0.2
THESAURUS_WEIGHT = 0.3
SPELLING_WEIGHT = 0.8
SYSTEM_BOOST = 0.1
# Without a sentence encoder, ``best`` answers only when the top hit clears both.
ANSWER_SCORE = 3.0
ANSWER_COVERAGE = 0.4
# Hybrid ranking: fused = (1 - DENSE_WEIGHT) x BM25 / best BM25 + DENSE_WEIGHT x cosine of the closest of the
# article's texts. The judge: confidence = sigmoid(JUDGE_COSINE x cosine + JUDGE_COVERAGE x coverage + JUDGE_BIAS).
# DENSE_WEIGHT was tuned on the even lines of data/kb_eval/dev.jsonl (0 to 1 by 0.1; 0.7 best, top-1 0.949)
# and checked on the odd ones (top-1 0.838 -> 0.879, top-3 0.970 -> 0.990); reciprocal-rank fusion did worse
# (0.899 at best on the even lines). The judge is a logistic regression (scikit-learn, C=1) fitted on the top
# hit of each even-line question (does it answer: 1 or 0) and of half of bench/kb_retrieval.py's off-topic
# questions (0).
DENSE_WEIGHT = 0.7
# An article that shares no word with the question is a hit only from this cosine (the top article of an
# off-topic question is closer than 0.3 for 26 of bench/kb_retrieval.py's 40).
DENSE_FLOOR = 0.3
JUDGE_COSINE, JUDGE_COVERAGE, JUDGE_BIAS = 2.40, 3.21, -1.92
# ``best`` answers at ANSWER_CONFIDENCE; a caller may offer hits from OFFER_CONFIDENCE as choices. At 0.6, on
# the odd lines, 92% are answered (83% rightly) and 1 of the other 20 off-topic questions; at 0.3, 12 of 20
# off-topic questions would be answered, so below 0.3 a hit is no answer at all.
ANSWER_CONFIDENCE = 0.6
OFFER_CONFIDENCE = 0.3

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHE = re.compile(r"(?<=[a-z])['\u2019](?=[a-z])")
_STEP = re.compile(r"^\s*\d+\.\s")
# "e-mail", "wi-fi": a hyphen after one letter, or between two short parts, joins one word.
_HYPHENATED = re.compile(r"(?<![a-z0-9])(?:([a-z])-([a-z]+)|([a-z]{2})-([a-z]{2}))(?![a-z0-9])")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from get how i if in is it its me my of on or our so "
    "that the their them then there this to up was we what when where which who why will with you "
    "your im i'm need want please help know "
    # chat filler that says nothing about the topic
    "am been being did doing had has have having he her him his she they us these those than too very "
    "just really still again also any anyone anybody someone somebody something anything thing things stuff "
    "hi hello hey thanks thank pls plz ok okay u ur ya yes no would could should might must shall may "
    "let lets tell say said says saying into about after before over out off down here now today got gets "
    "getting go going went gonna wanna trying tried try like some all every one "
    "whats thats theres heres wheres hows whos ive youre theyre weve".split()
)

# A small IT thesaurus for the words employees use: each group is the words the
# articles use, then the everyday phrases that mean it. Matched as whole words in
# the lower-cased question, and added to the query with THESAURUS_WEIGHT.
_THESAURUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("password", ("pw", "pwd", "passwd", "pass word", "passcode", "passphrase", "credentials")),
    ("sign in", ("login", "log in", "logon", "log on", "logging in", "signin", "sign on", "signing in")),
    ("lockout locked", ("locked out", "lock out", "locked", "wont let me in", "cant get in", "too many tries",
                        "too many attempts")),
    ("home remote vpn", ("house", "apartment", "home office", "remotely", "wfh", "off site", "offsite",
                         "on the road", "traveling", "travelling")),
    ("remote work home", ("telework", "teleworking", "work from home", "working from home")),
    ("mfa authenticator", ("approval", "approve", "push notification", "verification code", "two step",
                           "2 step", "2-step", "two-step", "6 digit code")),
    ("slow", ("sluggish", "laggy", "lagging", "crawling", "forever", "ages", "takes a long time")),
    ("freezing not responding", ("frozen", "freezes", "freeze", "hangs", "hanging", "spinning wheel")),
    ("restart", ("reboot", "rebooting", "rebooted", "by itself", "on its own", "overnight")),
    ("updates", ("patch", "patches", "updating", "upgrade")),
    ("printer copier", ("photocopier", "mfp", "multifunction", "big printer")),
    ("toner", ("ink", "cartridge")),
    ("paper jam", ("jam", "jammed", "paper stuck")),
    ("scan", ("scanner", "scanning", "scanned")),
    ("dual monitor", ("two screens", "second screen", "extra screen", "dual screens", "both screens",
                      "other screen", "two monitors", "second monitor")),
    ("dock", ("docking", "hub")),
    ("conference room screen present", ("projector", "tv", "big screen", "hdmi", "presenting", "screen share",
                                        "share my screen")),
    ("desk phone", ("office phone", "landline", "work line", "desk line")),
    ("phone mobile cell", ("cellphone", "smartphone", "samsung", "pixel", "cell")),
    ("voicemail", ("voice mail", "vm", "voicemails", "message light")),
    ("forward calls", ("redirect", "ring at", "ring on", "send my calls", "transfer calls", "calls go to")),
    ("badge", ("keycard", "key card", "access card", "id card", "fob", "key fob", "card reader", "door reader",
               "swipe")),
    ("lost stolen", ("misplaced", "missing", "cant find", "left it", "dropped")),
    ("broken replacement", ("cracked", "damaged", "worn out", "busted")),
    ("phishing suspicious", ("phish", "fishing", "scam", "spam", "fake", "fraud", "sketchy", "weird email",
                             "strange email", "legit", "hacked")),
    ("restore deleted previous versions", ("erased", "overwrote", "overwritten", "saved over", "undo", "undelete",
                                           "recover", "get back", "old version", "older version")),
    ("software install", ("program", "programs", "application", "download", "installer", "editor", "plugin",
                          "add-on", "extension")),
    ("purchasing card hardware", ("p card", "pcard", "p-card", "credit card", "procurement card", "buy",
                                  "purchase")),
    ("hardware equipment", ("keyboard", "mouse", "headset", "webcam", "charger")),
    ("outside people external", ("outsider", "consultant", "contractor", "vendor", "architect", "attorney",
                                 "auditor", "another agency", "other agency", "county", "state agency")),
    ("large file size", ("too big", "too large", "huge", "size limit", "bounced", "bounce back", "wont send",
                         "wont go")),
    ("mailbox size archive full", ("out of space", "running out of space", "almost full", "mailbox full",
                                   "quota", "storage")),
    ("signature", ("sig", "footer", "bottom of my emails", "end of my emails", "sign off")),
    ("automatic replies out of office", ("auto reply", "autoreply", "auto-reply", "ooo", "away message",
                                         "vacation message", "vacation reply", "automatic reply")),
    ("calendar", ("schedule", "appointments", "availability", "free busy")),
    ("shared mailbox", ("department inbox", "team inbox", "shared inbox", "generic email", "group mailbox",
                        "send as", "department address")),
    ("chat", ("dm", "instant message", "ping", "mention")),
    ("teams meeting", ("online meeting", "virtual meeting", "video call", "conference call", "call in")),
    ("zoom webex external meeting", ("gotomeeting", "google meet", "webinar")),
    ("internet network connection", ("offline", "no internet", "get online", "disconnected", "no connection",
                                     "ethernet", "network cable")),
    ("cache browser", ("cookies", "hard refresh", "firefox", "safari")),
    ("accessibility text size screen reader", ("font", "text size", "bigger text", "larger text", "too small",
                                               "tiny", "magnify", "read aloud", "out loud", "blind", "low vision",
                                               "eyesight", "captions", "hard of hearing", "deaf")),
    ("lock computer step away privacy", ("walk away", "away from my desk", "lunch", "coffee", "bathroom",
                                         "restroom", "leave my desk", "no one can see", "nobody can see",
                                         "prying eyes")),
    ("leaving separation offboarding", ("quit", "quitting", "retire", "retiring", "retirement", "resign",
                                        "resigning", "last day", "moving on", "terminated", "fired", "let go",
                                        "laid off")),
    ("new hire onboarding start date", ("new person", "new staff", "new worker", "starting", "start date",
                                        "onboard", "intern", "seasonal")),
    ("mdt patrol car vehicle", ("cruiser", "squad car", "police car", "fire truck", "fire engine", "ambulance",
                                "apparatus", "in the car", "toughbook")),
    ("accela permits", ("permit", "inspection", "inspections", "inspector", "plan review", "code enforcement")),
    ("munis timesheet payroll", ("time sheet", "timecard", "time card", "hours", "paycheck", "pay stub",
                                 "paystub", "w2", "w-2", "direct deposit", "overtime", "self service")),
    ("automatic replies out of office leave", ("on vacation", "on leave", "maternity leave", "paternity leave",
                                               "medical leave", "going away", "off next week")),
    ("change password expiring", ("expires", "expired", "about to expire")),
    ("forgot reset", ("forgotten", "cant remember", "dont remember")),
    ("password rules requirements", ("characters", "special character", "symbols", "complexity", "strong password",
                                     "good password")),
    ("cache old page refresh", ("outdated", "not updating", "still shows old", "old version of the page")),
    ("not printing", ("wont print", "nothing came out", "nothing comes out", "doesnt print", "didnt print",
                      "cant print")),
    ("family members", ("kid", "kids", "children", "child", "spouse", "husband", "wife", "son", "daughter",
                        "roommate")),
    ("report", ("flag", "flagging")),
    ("chat", ("message someone", "private message", "group chat")),
    ("restart notice", ("nagging", "nags")),
    ("intranet", ("employee portal", "hr forms", "handbook", "staff directory", "employee directory")),
    ("guest wifi visitor", ("visitor", "visitors", "guest", "guests", "personal device")),
)

_stemmer = Stemmer.Stemmer("english")  # Snowball, as bm25s uses it
_stems: dict[str, str] = {}


def _stem(word: str) -> str:
    stem = _stems.get(word)
    if stem is None:
        stem = _stemmer.stemWord(word)
        if len(_stems) < 200_000:
            _stems[word] = stem
    return stem


def _normalize(text: str) -> str:
    """Lower case, apostrophes dropped (``can't`` -> ``cant``); then, keeping every offset,
    short hyphenated words joined (``e-mail`` -> ``email ``)."""
    text = _APOSTROPHE.sub("", text.lower())
    return _HYPHENATED.sub(lambda m: "".join(p for p in m.groups() if p) + " ", text)


def _words(text: str) -> list[str]:
    """The lower-case words of ``text``."""
    return _WORD.findall(_normalize(text))


def tokenize(text: str) -> list[str]:
    """Lower-case stemmed words without stop words."""
    return [_stem(word) for word in _words(text) if word not in _STOPWORDS]


@dataclass(frozen=True)
class Article:
    """One how-to article."""

    id: str
    title: str
    body: str = field(repr=False)
    tags: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    audience: str = "all staff"
    url: str | None = None
    path: str = ""
    questions: tuple[str, ...] = ()

    def first_steps(self, count: int = 4) -> list[str]:
        """The first numbered steps, for a short answer."""
        return [line.strip() for line in self.body.splitlines() if _STEP.match(line)][:count]

    def summary(self) -> str:
        """The first paragraph of the body."""
        for block in self.body.strip().split("\n\n"):
            block = block.strip()
            if block and not block.startswith("#"):
                return block
        return ""


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


def _front_matter_line(text: str, key: str) -> int:
    """The 1-based line of ``key:`` in the front matter, or 2 when it is absent."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.startswith(f"{key}:"):
            return number
        if line.strip() == "---":
            break
    return 2


def _string_list(meta: dict[str, Any], key: str, path: Path, text: str) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or any(isinstance(item, (dict, list)) for item in value):
        raise ValueError(f"{path}:{_front_matter_line(text, key)}: '{key}' must be a list of strings")
    return tuple(str(item).strip() for item in value if item is not None and str(item).strip())


def parse_article(path: Path) -> Article:
    """Read one article. A bad front matter raises ValueError naming the file and line."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ValueError(f"{path}:1: the article must start with '---' and a YAML front matter")
    end = text.find("\n---", 3)
    if end < 0:
        raise ValueError(f"{path}:1: the front matter is not closed with '---'")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line if mark is not None else 0) + 1
        raise ValueError(f"{path}:{line}: bad front matter: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}:2: the front matter must be a mapping of keys")
    for key in ("id", "title"):
        if not meta.get(key):
            raise ValueError(f"{path}:{_front_matter_line(text, key)}: the front matter needs '{key}'")
    return Article(
        id=str(meta["id"]),
        title=str(meta["title"]),
        body=text[end + 4:].strip(),
        tags=_string_list(meta, "tags", path, text),
        systems=tuple(s.lower() for s in _string_list(meta, "systems", path, text)),
        audience=str(meta.get("audience") or "all staff"),
        url=str(meta["url"]) if meta.get("url") else None,
        path=str(path),
        questions=_string_list(meta, "questions", path, text),
    )


@dataclass
class _Concept:
    """One informative word of a question, and the words synonyms or the thesaurus expand it to."""

    token: str
    also: set[str] = field(default_factory=set)


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


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that finds any of ``phrases`` as whole words, the longest first."""
    unique = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not unique:
        return None
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p in unique) + r")(?![a-z0-9])")


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
        get a boost."""
        index = self._index
        scores, own, cosine = self._rank(index, question, systems)
        return [Hit(index.articles[row], float(scores[row]), self._confidence(index, own, row, scores, cosine))
                for row in _top(scores, limit)]

    def best(self, question: str, *, systems: tuple[str, ...] = ()) -> Hit | None:
        """The top hit when the judge says it answers the question (confidence >= ``ANSWER_CONFIDENCE``),
        else None (no bad guess)."""
        hits = self.search(question, systems=systems, limit=1)
        if not hits or hits[0].confidence < ANSWER_CONFIDENCE:
            return None
        return hits[0]

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

    @staticmethod
    def _confidence(index: _Index, own: list[_Concept], row: int, scores: np.ndarray,
                    cosine: np.ndarray | None) -> float:
        """The judge: how sure it is that article ``row`` answers. By words only, the older gate as 1 or 0."""
        coverage = _coverage(index, own, row)
        if cosine is None:
            return float(scores[row] >= ANSWER_SCORE and coverage >= ANSWER_COVERAGE)
        return 1.0 / (1.0 + math.exp(-(JUDGE_COSINE * cosine[row] + JUDGE_COVERAGE * coverage + JUDGE_BIAS)))

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
                for concept, (start, end) in zip(own, spans):
                    if start >= match.start() and end <= match.end():
                        concept.also.update(token for token, _weight in tokens)
        for system in systems:
            for token in tokenize(system):
                add(token, SYNONYM_WEIGHT)
        return weights, own


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


def _coverage(index: _Index, own: list[_Concept], row: int) -> float:
    """The IDF-weighted share of the question's words that the article has (itself or a synonym)."""
    if not own:
        return 0.0
    n = len(index.articles)
    terms = index.terms[row]
    total = matched = 0.0
    for concept in own:
        idf = math.log(1.0 + n / (index.df.get(concept.token, 0) + 0.5))
        total += idf
        if concept.token in terms or not concept.also.isdisjoint(terms):
            matched += idf
    return matched / total if total else 0.0
