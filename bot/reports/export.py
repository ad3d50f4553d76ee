"""The manager's figures as CSV rows."""

from __future__ import annotations

import csv
import io

from bot.services.figures import Figures

__all__ = ["csv_rows", "to_csv"]


def csv_rows(figures: Figures) -> list[tuple[str, str, str, object]]:
    """``(section, group, name, value)`` rows: every figure of the report, one per line."""
    rows: list[tuple[str, str, str, object]] = [
        ("period", "", key, value) for key, value in figures.period.items()
    ]
    rows += [("deflection", "", key, value) for key, value in figures.deflection.items() if key != "escalated_by"]
    rows += [("deflection", "escalated_by", kind, n) for kind, n in figures.deflection["escalated_by"].items()]
    for week in figures.weeks:
        rows += [("week", week["week"], key, value) for key, value in week.items() if key != "week"]
    for group, counts in figures.volume.items():
        rows += [("volume", group, name, n) for name, n in counts.items()]
    for topic in figures.top_topics:
        rows += [("top_topics", topic["topic"], key, topic[key]) for key in ("escalated", "abandoned", "total")]
    rows += [("not_understood", m["for_example"], "times", m["times"]) for m in figures.not_understood]
    accounts = figures.accounts
    rows += [("accounts", "", key, value) for key, value in accounts.items() if key != "by_action"]
    for action, counts in accounts["by_action"].items():
        rows += [("accounts", action, key, n) for key, n in counts.items()]
    tickets = figures.ticket_figures
    rows += [("tickets", "", key, value) for key, value in tickets.items() if key != "open_by_age"]
    for age, counts in (tickets["open_by_age"] or {}).items():
        rows += [("tickets_open", age, urgency, n) for urgency, n in counts.items()]
    for notice in figures.announcement_figures:
        rows += [("announcements", f"#{notice['id']} {notice['title']}", key, notice[key])
                 for key in ("delivered", "acknowledged", "unacknowledged")]
    rows += [("savings", "", key, value) for key, value in figures.savings.items()]
    return rows


def to_csv(figures: Figures) -> str:
    """The CSV file: a header, then ``csv_rows``; empty values for figures not known."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "group", "name", "value"))
    for section, group, name, value in csv_rows(figures):
        writer.writerow((section, group, name, "" if value is None else value))
    return out.getvalue()
