"""How the knowledge base reads text: lower-cased words, stop words dropped, Snowball stems, whole-phrase matching."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import Stemmer

__all__ = ["tokenize", "without_feared"]

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHE = re.compile(r"(?<=[a-z])['\u2019](?=[a-z])")
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


_stemmer = Stemmer.Stemmer("english")  # Snowball, as bm25s uses it
_stems: dict[str, str] = {}


_FEARED = re.compile(
    r"\b(?:rather than|instead of|before|so (?:that )?(?:i|we) (?:dont|don't|do not|wont|won't)|"
    r"(?:i )?(?:dont|don't|do not) want to|in case|or else|otherwise|or i(?:'ll| will)?)"
    r"[^.?!,;]*?\b(?:locked|lock|kicked|shut) out\b[^.?!,;]*", re.IGNORECASE)


def without_feared(text: str) -> str:
    """``text`` without a clause that tells a trouble feared, not had: "... expires in 4 days, i dont want to get
    locked out in the middle of the hearings, so how do i take care of that" asks about the expiry, not a lockout."""
    return _FEARED.sub(" ", text)


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


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that finds any of ``phrases`` as whole words, the longest first."""
    unique = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not unique:
        return None
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p in unique) + r")(?![a-z0-9])")


@dataclass
class _Concept:
    """One informative word of a question, and the words synonyms or the thesaurus expand it to."""

    token: str
    also: set[str] = field(default_factory=set)
