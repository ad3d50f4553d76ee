"""The judge of the knowledge base: how sure it is that an article answers the question."""

from __future__ import annotations

import math

import numpy as np

from bot.integrations.kb.index import _Index
from bot.integrations.kb.tuning import (
    ANSWER_COVERAGE,
    ANSWER_SCORE,
    JUDGE_BIAS,
    JUDGE_COSINE,
    JUDGE_COVERAGE,
    JUDGE_MATCHED,
)
from bot.integrations.kb.words import _Concept

__all__ = ["confidence", "judge_features"]


def confidence(index: _Index, own: list[_Concept], row: int, scores: np.ndarray,
               cosine: np.ndarray | None) -> float:
    """The judge: how sure it is that article ``row`` answers, from the meaning (cosine), the share of the
    question's informative words the article has (coverage) and how much information those words carry (a
    vague "the thing on my desk is doing the thing again" shares one common word with many articles). By words
    only, the older gate as 1 or 0."""
    if cosine is None:
        matched, total = _matched(index, own, row)
        return float(scores[row] >= ANSWER_SCORE and total > 0 and matched / total >= ANSWER_COVERAGE)
    cos, coverage, information = judge_features(index, own, row, cosine)
    logit = JUDGE_COSINE * cos + JUDGE_COVERAGE * coverage + JUDGE_MATCHED * information + JUDGE_BIAS
    return 1.0 / (1.0 + math.exp(-logit))


def judge_features(index: _Index, own: list[_Concept], row: int, cosine: np.ndarray) -> tuple[float, float, float]:
    """What the judge reads of article ``row``: cosine, coverage and log(1 + matched IDF) (for refitting it)."""
    matched, total = _matched(index, own, row)
    return float(cosine[row]), matched / total if total else 0.0, math.log1p(matched)


def _matched(index: _Index, own: list[_Concept], row: int) -> tuple[float, float]:
    """The IDF of the question's words that the article has (itself or a synonym), and of all of them."""
    if not own:
        return 0.0, 0.0
    n = len(index.articles)
    terms = index.terms[row]
    total = matched = 0.0
    for concept in own:
        idf = math.log(1.0 + n / (index.df.get(concept.token, 0) + 0.5))
        total += idf
        if concept.token in terms or not concept.also.isdisjoint(terms):
            matched += idf
    return matched, total
