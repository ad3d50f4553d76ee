"""The how-to question log: what was asked, what was answered, and what helped.

Unanswered and unhelpful questions are the knowledge base's gaps:
``helpdesk kb gaps`` groups and counts them so technicians know which
article to write next.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.store import Database, KbQuery

__all__ = ["GAP_OUTCOMES", "Gap", "QuestionLog", "content_words", "group_questions"]

GAP_OUTCOMES = ("unanswered", "unhelpful")
_WORD = re.compile(r"[a-z0-9]+")
_COMMON = frozenset(
    "a an and are can do does for from get how i im in is it me my of on or the to what where why with you your "
    "please need want help someone".split()
)


SAME_GAP = 0.5  # share of content words two questions need in common to count as one gap


def _stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s", "e"):
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def content_words(question: str) -> frozenset[str]:
    """The words that say what a question is about, roughly stemmed."""
    return frozenset(_stem(w) for w in _WORD.findall(question.lower()) if w not in _COMMON)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a | b) and len(a & b) / len(a | b) >= SAME_GAP


@dataclass
class Gap:
    """Questions that asked for the same thing and went without a useful answer."""

    words: frozenset[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)
    articles: set[str] = field(default_factory=set)
    last_asked: datetime | None = None


class QuestionLog:
    """Records how-to questions and the feedback on their answers."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def record(self, question: str, asked_by: str, article_id: str | None) -> int:
        """Log a question with the article given (None: no answer). Returns its id."""
        row = KbQuery(question=question[:2000], asked_by=asked_by, article_id=article_id,
                      outcome="answered" if article_id else "unanswered", asked_at=self.clock())

        def add(session: Session) -> int:
            session.add(row)
            session.flush()
            return row.id or 0

        return await self.db.run(add)

    async def last_article(self, asked_by: str, since: datetime) -> str | None:
        """The article last given to ``asked_by`` since ``since``, if any."""
        query = (select(KbQuery.article_id).where(col(KbQuery.asked_by) == asked_by, col(KbQuery.asked_at) >= since,
                                                  col(KbQuery.article_id).is_not(None))
                 .order_by(col(KbQuery.id).desc()).limit(1))
        return await self.db.run(lambda session: session.exec(query).first())

    async def answered(self, asked_by: str, question: str, since: datetime) -> bool:
        """Whether the last question ``asked_by`` asked since ``since`` is ``question`` and got an article (a guide
        shown beside a request counts: it answers the message it was shown for)."""
        query = (select(KbQuery.question, KbQuery.article_id)
                 .where(col(KbQuery.asked_by) == asked_by, col(KbQuery.asked_at) >= since)
                 .order_by(col(KbQuery.id).desc()).limit(1))
        last = await self.db.run(lambda session: session.exec(query).first())
        return last is not None and last[1] is not None and last[0].strip() == question[:2000].strip()

    async def feedback(self, query_id: int, asked_by: str, helpful: bool) -> KbQuery | None:
        """Record "did this help?" from the person who asked, once.

        None when there is no such answer, it is someone else's, or it was already rated.
        """
        outcome = "helpful" if helpful else "unhelpful"

        def rate(session: Session) -> KbQuery | None:
            changed = session.execute(
                update(KbQuery)
                .where(col(KbQuery.id) == query_id, col(KbQuery.asked_by) == asked_by,
                       col(KbQuery.outcome) == "answered")
                .values(outcome=outcome)
            )
            return session.get(KbQuery, query_id) if changed.rowcount == 1 else None  # type: ignore[attr-defined]

        return await self.db.run(rate)

    def gaps(self, limit: int = 20, since: datetime | None = None) -> list[Gap]:
        """Unanswered and unhelpful questions (asked ``since``, when given) grouped by what they ask, most
        frequent first."""
        query = select(KbQuery).where(col(KbQuery.outcome).in_(GAP_OUTCOMES))
        if since is not None:
            query = query.where(col(KbQuery.asked_at) >= since)
        rows = self.db.call(lambda session: session.exec(query.order_by(col(KbQuery.id))).all())
        return group_questions((row.question, row.asked_at, row.article_id) for row in rows)[:limit]


def group_questions(rows: Iterable[tuple[str, datetime | None, str | None]]) -> list[Gap]:
    """Questions (text, when asked, the article given), oldest first, grouped by what they ask; the most
    frequent group first."""
    groups: list[Gap] = []
    for question, asked_at, article_id in rows:
        words = content_words(question)
        gap = next((g for g in groups if _similar(g.words, words)), None)
        if gap is None:
            gap = Gap(words)
            groups.append(gap)
        gap.count += 1
        if len(gap.examples) < 3 and question not in gap.examples:
            gap.examples.append(question)
        if article_id:
            gap.articles.add(article_id)
        gap.last_asked = asked_at
    return sorted(groups, key=lambda g: -g.count)
