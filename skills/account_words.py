"""Reading an account request's words: whose account, which choice, which system, which password guide."""

from __future__ import annotations

import re

from bot.sdk import Article, Context, Turn

__all__ = ["choice_of", "masked", "password_article", "system_of", "target_of"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def password_article(ctx: Context, question: str, *, sure: bool = False) -> Article | None:
    """The best knowledge-base article about passwords for ``question``, if any; with ``sure``, only the first
    article, when the judge is sure it answers (``kb_beside_confidence``)."""
    if sure:
        hit = ctx.kb.best(question, floor=ctx.settings.kb_beside_confidence)
        return hit.article if hit is not None and _about_passwords(hit.article) else None
    return next((hit.article for hit in ctx.kb.search(question, limit=5) if _about_passwords(hit.article)), None)


def _about_passwords(article: Article) -> bool:
    return "password" in " ".join((article.title, *article.tags)).lower()


def choice_of(answer: object) -> str | None:
    """``unlock``, ``reset`` or ``cancel`` from a click or typed words; None when it is none of them."""
    words = str(answer or "").lower()
    for choice, hints in (("cancel", ("cancel", "stop", "never mind")), ("unlock", ("unlock",)),
                          ("reset", ("reset", "password", "new"))):
        if any(hint in words for hint in hints):
            return choice
    return None


def target_of(text: str) -> str | None:
    """The account a message names (an email address in it), lower-cased; None when it names none."""
    match = _EMAIL.search(text or "")
    return match.group(0).lower() if match else None


def system_of(turn: Turn) -> str:
    """The system the message named (its ``system`` entity), or ""."""
    entities = turn.parse.get("entities", []) if turn.parse else []
    return next((str(e["value"]) for e in entities if e["entity"] == "system"), "")


def masked(email: str) -> str:
    """``a***@home.example``: enough to recognise, not enough to learn."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
