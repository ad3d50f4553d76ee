"""The judge of the knowledge base: how sure it is that an article answers the question."""

from __future__ import annotations

import math

import numpy as np

from bot.integrations.kb.index import _Index
from bot.integrations.kb.tuning import ANSWER_COVERAGE, ANSWER_SCORE, JUDGE_BIAS, JUDGE_COSINE, JUDGE_COVERAGE
from bot.integrations.kb.words import _Concept

__all__ = ["confidence"]


def confidence(index: _Index, own: list[_Concept], row: int, scores: np.ndarray,
               cosine: np.ndarray | None) -> float:
    """The judge: how sure it is that article ``row`` answers. By words only, the older gate as 1 or 0."""
    coverage = _coverage(index, own, row)
    if cosine is None:
        return float(scores[row] >= ANSWER_SCORE and coverage >= ANSWER_COVERAGE)
    return 1.0 / (1.0 + math.exp(-(JUDGE_COSINE * cosine[row] + JUDGE_COVERAGE * coverage + JUDGE_BIAS)))


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
