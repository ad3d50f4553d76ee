"""Keeping secrets out of the logs at every level, whoever logs them.

While a secret (a temporary password) is being set and delivered, ``hidden``
registers it; every log record created meanwhile, by our code or by a library
(slack_sdk writes request and response bodies at DEBUG, the Teams SDK its
activities), has each registered secret replaced by ``[redacted]`` in its
message before any handler sees it. This is done in the log record factory,
so it holds for every logger and every handler, the test's too.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["REDACTED", "hidden", "install"]

REDACTED = "[redacted]"

_live: Counter[str] = Counter()
_lock = threading.Lock()
_installed = False


@contextmanager
def hidden(secret: str) -> Iterator[None]:
    """Redact ``secret`` from every log record created until the block ends (nested and concurrent uses add up)."""
    install()
    with _lock:
        _live[secret] += 1
    try:
        yield
    finally:
        with _lock:
            _live[secret] -= 1
            if _live[secret] <= 0:
                del _live[secret]


def install() -> None:
    """Wrap the log record factory once, so that records carry no live secret."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _live:
                _redact(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _redact(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: logging reports that itself
        return
    secrets = [secret for secret in list(_live) if secret in message]
    if not secrets:
        return
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    record.msg, record.args = message, None
