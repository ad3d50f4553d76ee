"""The announcement composer: its inputs, reading and checking what a technician filled in, and back again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.messages import FormInput
from bot.core.timewords import parse_schedule, parse_when
from bot.store import Announcement

__all__ = ["AUDIENCES", "KINDS", "KIND_LABELS", "Draft", "composer_inputs", "composer_values", "read_composer"]

KINDS = (("outage", "Outage"), ("maintenance", "Maintenance"), ("security", "Security notice"),
         ("general", "General"))
KIND_LABELS = {"outage": "IT outage", "maintenance": "Planned maintenance", "security": "Security notice",
               "general": "IT notice"}
"""How each kind is headed in the message recipients get."""
AUDIENCES = (("all", "All staff"), ("listed", "Only those listed below"))


@dataclass
class Draft:
    """The composer's values, read and checked."""

    kind: str
    title: str
    body: str
    systems: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    audience: dict[str, Any]
    schedule: str
    send_at: datetime | None
    cron: str | None
    ack_required: bool
    allow_mentions: bool


def composer_inputs(values: dict[str, str]) -> tuple[FormInput, ...]:
    """The composer's inputs, filled with ``values`` (what the technician typed, or a notice being edited)."""

    def initial(name: str, default: str = "") -> str:
        return values.get(name) or default

    return (
        FormInput("kind", "Kind", "choice", KINDS, initial=initial("kind", "general")),
        FormInput("title", "Title", initial=initial("title")),
        FormInput("body", "Message", "textarea", optional=True, initial=initial("body")),
        FormInput("systems", "Affected systems", optional=True, initial=initial("systems"),
                  hint="comma-separated, e.g. outlook, vpn"),
        FormInput("start", "Starts", "datetime", optional=True, initial=initial("start"),
                  hint='e.g. "Sat 6am" or "tonight 9pm"'),
        FormInput("end", "Expected end", "datetime", optional=True, initial=initial("end"), hint='e.g. "10am"'),
        FormInput("audience", "Audience", "choice", AUDIENCES, initial=initial("audience", "all")),
        FormInput("departments", "Departments", optional=True, initial=initial("departments"),
                  hint="comma-separated, e.g. Parks, Police"),
        FormInput("groups", "User groups", optional=True, initial=initial("groups"), hint="e.g. parks-staff"),
        FormInput("channels", "Channels", optional=True, initial=initial("channels"),
                  hint="e.g. general or slack:C0123"),
        FormInput("schedule", "Send", initial=initial("schedule", "now"),
                  hint='"now", "Sat 8am", "every first Monday 8am" or cron text'),
        FormInput("ack", "Ask people to acknowledge", "boolean", initial=initial("ack", "no")),
        FormInput("mentions", "Page the listed channels (@channel)", "boolean", initial=initial("mentions", "no")),
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", value or "") if part.strip()]


def _yes(value: str) -> bool:
    return str(value).strip().lower() in ("yes", "y", "true", "1", "on")


def read_composer(values: dict[str, str], now: datetime, timezone: str) -> Draft:
    """Read the composer's form values; ValueError with a message for the technician when one is wrong."""
    kind = (values.get("kind") or "general").strip().lower()
    if kind not in dict(KINDS):
        raise ValueError(f"Kind must be one of: {', '.join(k for k, _ in KINDS)}.")
    title = " ".join((values.get("title") or "").split())
    if not title:
        raise ValueError("The announcement needs a title.")
    if len(title) > 200:
        raise ValueError(f"The title is {len(title)} characters long; keep it under 200.")
    body = (values.get("body") or "").strip()
    if len(body) > 3000:
        raise ValueError(f"The message is {len(body):,} characters long; keep it under 3,000.")
    starts_at = ends_at = None
    if (values.get("start") or "").strip():
        starts_at = parse_when(values["start"], now, timezone, today_if_passed=kind == "outage")
    if (values.get("end") or "").strip():
        ends_at = parse_when(values["end"], starts_at or now, timezone)
        if starts_at and ends_at <= starts_at:
            raise ValueError("The expected end is before the start.")
    audience: dict[str, Any] = {
        "all": (values.get("audience") or "all").strip().lower() in ("all", "all staff", "everyone"),
        "departments": _split(values.get("departments", "")),
        "groups": [g.lstrip("@") for g in _split(values.get("groups", ""))],
        "channels": _split(values.get("channels", "")),
    }
    if not audience["all"] and not (audience["departments"] or audience["groups"] or audience["channels"]):
        raise ValueError("Choose all staff, or list departments, user groups or channels.")
    schedule = parse_schedule(values.get("schedule") or "now", now, timezone)
    cron = None
    if schedule.kind == "cron":
        cron = schedule.text
    return Draft(
        kind=kind, title=title, body=body, systems=[s.lower() for s in _split(values.get("systems", ""))],
        starts_at=starts_at, ends_at=ends_at, audience=audience, schedule=schedule.text,
        send_at=schedule.at, cron=cron, ack_required=_yes(values.get("ack", "")),
        allow_mentions=_yes(values.get("mentions", "")),
    )


def composer_values(announcement: Announcement, timezone: str) -> dict[str, str]:
    """An announcement as the composer's values again (to edit it)."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    audience = announcement.audience
    return {
        "kind": announcement.kind, "title": announcement.title, "body": announcement.body,
        "systems": ", ".join(announcement.systems), "start": local(announcement.starts_at),
        "end": local(announcement.ends_at), "audience": "all" if audience.get("all") else "listed",
        "departments": ", ".join(audience.get("departments", [])),
        "groups": ", ".join(audience.get("groups", [])), "channels": ", ".join(audience.get("channels", [])),
        "schedule": announcement.cron or (local(announcement.send_at) if announcement.send_at else "now"),
        "ack": "yes" if announcement.ack_required else "no",
        "mentions": "yes" if announcement.allow_mentions else "no",
    }
