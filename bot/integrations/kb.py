"""The knowledge base: Markdown how-to articles with YAML front matter, searched with BM25."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
import yaml

__all__ = ["Article", "Hit", "KnowledgeBase", "parse_article", "tokenize"]

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from get how i if in is it its me my of on or our so "
    "that the their them then there this to up was we what when where which who why will with you "
    "your im i'm need want please help know".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case words without stop words, with a plural ``s`` trimmed."""
    words = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return words


@dataclass(frozen=True)
class Article:
    """One how-to article."""

    id: str
    title: str
    body: str
    tags: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    audience: str = "all staff"
    url: str | None = None
    path: str = ""

    def first_steps(self, count: int = 4) -> list[str]:
        """The first numbered steps, for a short answer."""
        return [line.strip() for line in self.body.splitlines() if re.match(r"^\s*\d+\.\s", line)][:count]

    def summary(self) -> str:
        """The first paragraph of the body."""
        for block in self.body.strip().split("\n\n"):
            block = block.strip()
            if block and not block.startswith("#"):
                return block
        return ""


@dataclass(frozen=True)
class Hit:
    """An article and how well it matched."""

    article: Article
    score: float


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
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 2
        raise ValueError(f"{path}:{line}: bad front matter: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}:2: the front matter must be a mapping of keys")
    for key in ("id", "title"):
        if not meta.get(key):
            raise ValueError(f"{path}:2: the front matter needs '{key}'")
    return Article(
        id=str(meta["id"]),
        title=str(meta["title"]),
        body=text[end + 4:].strip(),
        tags=tuple(str(t) for t in meta.get("tags") or ()),
        systems=tuple(str(s).lower() for s in meta.get("systems") or ()),
        audience=str(meta.get("audience") or "all staff"),
        url=meta.get("url"),
        path=str(path),
    )


@dataclass
class KnowledgeBase:
    """The articles of one folder and their BM25 index."""

    folder: Path
    base_url: str | None = None
    articles: list[Article] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index: bm25s.BM25 | None = None

    def load(self) -> None:
        """(Re)read the folder. A broken article is reported in ``errors``; the rest still load."""
        articles, errors = [], []
        for path in sorted(self.folder.glob("*.md")) if self.folder.is_dir() else []:
            try:
                articles.append(parse_article(path))
            except (ValueError, OSError, UnicodeDecodeError) as exc:
                errors.append(str(exc))
                log.warning("knowledge base: %s", exc)
        index = None
        if articles:
            index = bm25s.BM25()
            index.index([self._document(a) for a in articles], show_progress=False)
        self.articles, self.errors, self._index = articles, errors, index

    @staticmethod
    def _document(article: Article) -> list[str]:
        # Title and tags count more than the body: repeat them.
        return (tokenize(article.title) * 3 + tokenize(" ".join(article.tags)) * 2
                + tokenize(" ".join(article.systems)) + tokenize(article.body))

    def search(self, question: str, *, systems: tuple[str, ...] = (), limit: int = 3) -> list[Hit]:
        """The best articles for ``question``, best first; those about ``systems`` get a boost."""
        if self._index is None:
            return []
        words = [w for w in tokenize(question) + tokenize(" ".join(systems)) if w in self._index.vocab_dict]
        if not words:
            return []
        scores = np.asarray(self._index.get_scores(words), dtype=float)
        for i, article in enumerate(self.articles):
            if systems and set(systems) & set(article.systems):
                scores[i] *= 1.25
        order = np.argsort(-scores)[:limit]
        return [Hit(self.articles[i], float(scores[i])) for i in order if scores[i] > 0]

    def link(self, article: Article) -> str | None:
        """Where to read the whole article."""
        if article.url:
            return article.url
        if self.base_url:
            return f"{self.base_url.rstrip('/')}/{article.id}"
        return None
