"""Temporary passwords, generated with ``secrets`` to the configured policy.

No look-alike characters (0/O/o, 1/l/I/i, 5/S, 2/Z, 8/B and the quotes), at
least one character of each configured class, and nothing of the user's name
in it (any three-letter run of the user name or of a part of the display
name, case-insensitively). The result is never logged or stored.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable

__all__ = ["CLASSES", "LOOKALIKES", "temporary_password"]

LOOKALIKES = frozenset("0Oo1lIi|5S2Z8B`'\"")
CLASSES = {
    "upper": string.ascii_uppercase,
    "lower": string.ascii_lowercase,
    "digit": string.digits,
    "symbol": "!#$%&*+-=?@^_~",
}


def _forbidden_runs(names: Iterable[str]) -> set[str]:
    """Every three-letter run of every word of ``names``, lowercased."""
    runs: set[str] = set()
    for name in names:
        for word in re.split(r"[\s._@,-]+", name.lower()):
            runs.update(word[i:i + 3] for i in range(len(word) - 2))
    return runs


def temporary_password(length: int, classes: Iterable[str], names: Iterable[str] = ()) -> str:
    """A random password of ``length`` with every class in ``classes`` and no run of ``names``."""
    alphabets = ["".join(c for c in CLASSES[name] if c not in LOOKALIKES) for name in classes]
    if not alphabets or length < len(alphabets):
        raise ValueError("the password must be at least as long as the number of character classes")
    everything = "".join(alphabets)
    forbidden = _forbidden_runs(names)
    rng = secrets.SystemRandom()
    while True:
        chars = [secrets.choice(alphabet) for alphabet in alphabets]
        chars += [secrets.choice(everything) for _ in range(length - len(chars))]
        rng.shuffle(chars)
        password = "".join(chars)
        lowered = password.lower()
        if not any(run in lowered for run in forbidden):
            return password
