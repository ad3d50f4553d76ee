"""Score knowledge-base retrieval against labelled questions: hit@1, hit@3, MRR and answered rate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.integrations.kb.search import KnowledgeBase

__all__ = ["Miss", "RetrievalReport", "evaluate_retrieval", "load_pairs"]


@dataclass(frozen=True)
class Miss:
    """A question whose expected article was not the top hit."""

    question: str
    expected: str
    got: tuple[str, ...]

    @property
    def rank(self) -> int | None:
        """1-based rank of the expected article among ``got``, or None when it is absent."""
        return self.got.index(self.expected) + 1 if self.expected in self.got else None


@dataclass
class RetrievalReport:
    """How well the knowledge base finds the expected article."""

    count: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    mrr: float = 0.0
    answered: float = 0.0
    answered_correctly: float = 0.0
    misses: list[Miss] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Plain figures (and the misses) for JSON."""
        return {
            "count": self.count,
            "hit_at_1": round(self.hit_at_1, 4),
            "hit_at_3": round(self.hit_at_3, 4),
            "mrr": round(self.mrr, 4),
            "answered": round(self.answered, 4),
            "answered_correctly": round(self.answered_correctly, 4),
            "misses": [{"question": m.question, "expected": m.expected, "got": list(m.got)} for m in self.misses],
        }


def evaluate_retrieval(kb: KnowledgeBase, pairs: list[tuple[str, str]], *, depth: int = 10) -> RetrievalReport:
    """Search every question and compare with its expected article id.

    ``hit_at_1``/``hit_at_3`` are the share of questions whose article is in
    the top 1/3 hits, ``mrr`` the mean reciprocal rank over the top ``depth``
    hits, ``answered`` the share for which ``kb.best`` gives an answer at all
    and ``answered_correctly`` the share it answers with the right article.
    A question whose top hit is wrong (or absent) is listed in ``misses`` with
    the top three ids it got.
    """
    report = RetrievalReport(count=len(pairs))
    if not pairs:
        return report
    top1 = top3 = answered = correct = 0
    reciprocal = 0.0
    for question, expected in pairs:
        got = [hit.article.id for hit in kb.search(question, limit=max(depth, 3))]
        if got[:1] == [expected]:
            top1 += 1
        else:
            report.misses.append(Miss(question, expected, tuple(got[:3])))
        if expected in got[:3]:
            top3 += 1
        if expected in got:
            reciprocal += 1.0 / (got.index(expected) + 1)
        best = kb.best(question)
        if best is not None:
            answered += 1
            correct += best.article.id == expected
    n = len(pairs)
    report.hit_at_1, report.hit_at_3, report.mrr = top1 / n, top3 / n, reciprocal / n
    report.answered, report.answered_correctly = answered / n, correct / n
    return report


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """Read ``{"question": ..., "article_id": ...}`` lines; blank lines are skipped.

    A line that is not such an object raises ``ValueError`` naming the file and 1-based line
    (``dev.jsonl:3: line 3 is not valid JSON (...)``).
    """
    path = Path(path)
    pairs: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: line {number} is not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{number}: line {number} must be an object with 'question' and 'article_id'")
            question, article_id = record.get("question"), record.get("article_id")
            for key, value in (("question", question), ("article_id", article_id)):
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{path}:{number}: line {number} needs '{key}' as a non-empty string")
            pairs.append((str(question).strip(), str(article_id).strip()))
    return pairs
