"""Keeping secrets out of the logs at every level, whoever logs them.

While a secret (a temporary password) is being set and delivered, ``hidden``
registers it; every log record created meanwhile, by our code or by a library
(slack_sdk writes request and response bodies at DEBUG, the Teams SDK its
activities), has each registered secret replaced by ``[redacted]`` in its
message before any handler sees it. This is done in the log record factory,
so it holds for every logger and every handler, the test's too.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "hidden", "install", "variants"]

REDACTED = "[redacted]"

_live: Counter[str] = Counter()
_lock = threading.Lock()
_installed = False


@contextmanager
def hidden(secret: str) -> Iterator[None]:
    """Redact ``secret`` from every log record created until the block ends (nested and concurrent uses add up).

    The forms it takes on its way out are redacted too: HTML-escaped (Slack's ``&amp;``), Markdown-escaped
    (a Teams card), JSON-escaped (a logged request body) and URL-encoded (a logged form body).
    """
    install()
    forms = variants(secret)
    with _lock:
        _live.update(forms)
    try:
        yield
    finally:
        with _lock:
            _live.subtract(forms)
            for form in forms:
                if _live[form] <= 0:
                    del _live[form]


def variants(secret: str) -> set[str]:
    """``secret`` as written in a Slack message, a Markdown card, a JSON body or a URL-encoded form."""
    markdown = re.sub(r"([\\*_\[\]`~])", r"\\\1", secret)
    forms = {secret, quote_plus(secret), quote(secret, safe="")}
    for text in (secret, markdown):
        for escaped in (text, html.escape(text, quote=False)):
            forms.update({escaped, json.dumps(escaped)[1:-1]})
    return {form for form in forms if form}


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
    secrets = sorted((secret for secret in list(_live) if secret in message), key=len, reverse=True)
    if not secrets:
        return
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    record.msg, record.args = message, None
