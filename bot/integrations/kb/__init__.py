"""The knowledge base: how-to articles, their hybrid BM25 and sentence-vector search, the judge, and its evaluation."""

from __future__ import annotations

from bot.integrations.kb.articles import Article, parse_article
from bot.integrations.kb.evaluation import Miss, RetrievalReport, evaluate_retrieval, load_pairs
from bot.integrations.kb.search import Hit, KnowledgeBase
from bot.integrations.kb.words import tokenize

__all__ = [
    "Article",
    "Hit",
    "KnowledgeBase",
    "Miss",
    "RetrievalReport",
    "evaluate_retrieval",
    "load_pairs",
    "parse_article",
    "tokenize",
]
