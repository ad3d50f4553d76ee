"""Between Jira and our ticket values: JQL literals, the bot's labels and priorities, workflow steps, comments.

Plain functions of Jira's JSON, shared by the Jira and Jira Service Management backends.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

__all__ = [
    "BOT_LABEL",
    "DEFAULT_PRIORITIES",
    "FIELDS",
    "comment_author",
    "comment_text",
    "jql_quote",
    "last_public_comment",
    "parse_time",
    "pick_transition",
    "reporter_from_description",
    "request_label",
]

BOT_LABEL = "helpdesk-bot"
"""Every ticket the bot files carries this label (the polling job's JQL looks for it)."""
DEFAULT_PRIORITIES = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}
"""Our urgencies as Jira priority names, unless ``HELPDESK_JIRA_FIELDS`` maps them otherwise."""
FIELDS = "summary,status,assignee,reporter,description,labels,comment,updated,priority,components"
"""The issue fields the bot reads."""
_DONE_WORDS = {"resolved", "resolve", "closed", "close", "done", "fixed"}
_WORKING_WORDS = {"in progress", "working", "start", "started", "taken"}


def jql_quote(value: str) -> str:
    """``value`` as one JQL string literal: quoted, with backslashes and quotes escaped, control characters blanked."""
    cleaned = "".join(" " if ord(ch) < 32 or ch == "\x7f" else ch for ch in value)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def request_label(request_id: str) -> str:
    """The label that marks the ticket filed for ``request_id``, so a retry finds it instead of filing twice."""
    return "hd-" + re.sub(r"[^a-z0-9-]", "", request_id.lower())


def pick_transition(transitions: list[dict[str, Any]], status: str) -> str | None:
    """The id of the transition to ``status``: by its name or its target's, else by the status category
    that the word means (done, in progress); None when the workflow offers none."""
    wanted = status.strip().lower()
    for transition in transitions:
        names = {str(transition.get("name", "")).lower(), str((transition.get("to") or {}).get("name", "")).lower()}
        if wanted in names:
            return str(transition["id"])
    category = "done" if wanted in _DONE_WORDS else "indeterminate" if wanted in _WORKING_WORDS else None
    for transition in transitions:
        to = transition.get("to") or {}
        if category and (to.get("statusCategory") or {}).get("key") == category:
            return str(transition["id"])
    return None


def _is_public(comment: dict[str, Any]) -> bool:
    if comment.get("visibility") or comment.get("jsdPublic") is False:
        return False
    for prop in comment.get("properties") or []:
        if prop.get("key") == "sd.public.comment" and (prop.get("value") or {}).get("internal"):
            return False
    return True


def last_public_comment(block: dict[str, Any]) -> dict[str, Any] | None:
    """The newest comment of an issue's ``comment`` block that its reporter can read, or None."""
    public = [c for c in block.get("comments") or [] if _is_public(c)]
    return public[-1] if public else None


_VIA_BOT = re.compile(r"^(\S+@\S+) wrote \(through the helpdesk bot\):\n", re.IGNORECASE)


def comment_text(comment: dict[str, Any]) -> str:
    """The comment's body, without the line that says the bot wrote it for someone."""
    return _VIA_BOT.sub("", str(comment.get("body") or ""))


def comment_author(comment: dict[str, Any]) -> str:
    """Who wrote the comment: the employee the bot wrote it for, else the Jira author."""
    via = _VIA_BOT.match(str(comment.get("body") or ""))
    if via:
        return via.group(1).lower()
    author = comment.get("author") or {}
    return str(author.get("emailAddress") or author.get("displayName") or author.get("accountId") or "")


_REPORTED_BY = re.compile(r"Reported(?: about .+?)? by (\S+@\S+) through the IT helpdesk bot\.")


def reporter_from_description(description: str) -> str | None:
    """The employee named in the line the bot adds to each description, if it is there."""
    match = _REPORTED_BY.search(description)
    return match.group(1).lower() if match else None


def parse_time(value: object) -> datetime | None:
    """A Jira timestamp (``2024-05-01T09:30:00.000+0000``) as a datetime, or None."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
