"""Small text helpers: folding case and accents, spotting one-letter typos (the NLU and the knowledge
base), defusing mentions, neutralising bidirectional controls, and Slack markup as plain text."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["SUMMARY_CHARS", "deletions", "fold_case", "neutralise_bidi", "neutralise_mentions", "slack_markup_as_text",
           "summary_of", "within_one_edit"]


def fold_case(text: str) -> str:
    """Lower case without accents (as scikit-learn's ``strip_accents="unicode"``)."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def deletions(word: str) -> set[str]:
    """Every string made by deleting one character of ``word`` (a symmetric-delete typo index key)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are equal or differ by one insertion, deletion, substitution or neighbour swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


_MENTION = re.compile(
    r"(?i)<!(channel|everyone|here)[^>]*>|<!subteam\^[^>]*>|(?<![\w\u200b])[@!](channel|everyone|here)\b"
)


def neutralise_mentions(text: str) -> str:
    """Defuse @channel, @everyone, @here (and Slack's <!channel> forms) so a text cannot page anyone."""

    def defuse(match: re.Match[str]) -> str:
        raw = match.group(0)
        if raw.startswith("<!"):
            return "@\u200b" + raw[2:-1].split("|")[0].split("^")[0]
        return raw[0] + "\u200b" + raw[1:]

    return _MENTION.sub(defuse, text)


_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def neutralise_bidi(text: str) -> str:
    """Bidirectional controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C) shown as their code, e.g. ``[U+202E]``.

    A right-to-left override would make ``invoice\u202efdp.exe`` read as "invoiceexe.pdf"; shown as a code,
    the reader sees what is really there.
    """
    return _BIDI.sub(lambda match: f"[U+{ord(match.group(0)):04X}]", text)


_SLACK_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>\s]*)(?:\|([^>]*))?>")
_SLACK_REFERENCE = re.compile(r"<([@#!])([^|>\s]*)(?:\|([^>]*))?>")


def slack_markup_as_text(text: str) -> str:
    """Slack's ``<url|label>``, ``<@U123>``, ``<#C123|name>`` and ``<!here>`` as what they mean, in plain text.

    A link shows its real address after its label (``click (http://evil.example)``), so a label cannot hide
    where it goes; a mention shows the id it names.
    """
    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return f"{label} ({url})" if label and label != url else url

    def reference(match: re.Match[str]) -> str:
        sign, target, label = match.group(1), match.group(2), match.group(3)
        mark = "#" if sign == "#" else "@"
        return mark + (label or target.split("^")[0])

    return _SLACK_REFERENCE.sub(reference, _SLACK_LINK.sub(link, text))


SUMMARY_CHARS = 120
"""How long a one-line summary of a message may be."""


_GREETING = re.compile(
    r"^(?:(?:hi|hello|hey|good (?:morning|afternoon|evening))\b[^.!?]*|[\w'&/ -]{1,40} here|"
    r"this is [^.!?]{1,60}|(?:(?:oh|ok(?:ay)?|um+|uh+|so|sorry|well|ugh+|hmm+|yeah|alright|lol)\W*)+|"
    r"(?:i'?m |i am )?(?:so )?sorry to (?:bother|trouble) you[^.!?]*|"
    r"(?:i'?m |i am )?afraid i have (?:some )?(?:bad|unwelcome) news|(?:some )?(?:bad|unwelcome) news,? i'?m afraid)"
    r"[.!?]*$", re.IGNORECASE)
"""A first sentence that only greets, says who is writing or clears its throat ("Traffic ops here.", "Hi all,", "This
is payroll.", "oh.", "ok so.", "Sorry to bother you.", "I am afraid I have some unwelcome news.")."""


def summary_of(text: str) -> str:
    """A one-line summary: the first sentence or line that says more than a greeting or who is writing, cut at a
    word near ``SUMMARY_CHARS``."""
    first = " ".join(text.strip().split("\n", 1)[0].split())
    sentences = re.split(r"(?<=[.!?])\s", first)
    sentence = next((s for s in sentences[:-1] if not _GREETING.match(s)), sentences[-1])
    if len(sentence) <= SUMMARY_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, SUMMARY_CHARS)
    return sentence[: cut if cut > 40 else SUMMARY_CHARS].rstrip(",;:") + "…"
