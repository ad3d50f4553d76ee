"""What a second technician approves for a broadcast: a digest of exactly what will be sent.

The approval request stores the digest of the notice as it was when approval
was asked for; the notice stores the digest that was approved. Before a
broadcast is released or sent, the digest of the row as it is now must match,
so an edit (by any path) after approval was asked for can never ride on it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from bot.store import Announcement
from bot.store.views import AnnouncementView

__all__ = ["content_digest", "needs_approval"]

_CONTENT = ("kind", "title", "body", "systems", "starts_at", "ends_at", "ack_required", "allow_mentions")


def content_digest(row: Announcement) -> str:
    """A SHA-256 of what recipients get and who they are (not when: a new time goes back through the composer)."""
    audience = {key: value for key, value in row.audience.items() if key != "origin"}
    content: dict[str, Any] = {name: getattr(row, name) for name in _CONTENT}
    content["audience"] = audience
    canonical = json.dumps(content, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.isoformat()
    raise TypeError(f"cannot digest {type(value).__name__}")


def needs_approval(row: AnnouncementView, two_person: bool) -> bool:
    """True when ``row`` is a broadcast to all staff and two-person approval (``two_person``) is on."""
    return bool(row.audience.get("all")) and two_person
