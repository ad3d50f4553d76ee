"""The manager's figures as HTML: sections of a chart beside its table, and the printable monthly report.

Every value is escaped (the tables with ``html.escape``, the charts by pygal). Headline numbers carry
``data-figure="<key in /dashboard.json>"`` so a test (or a script) can read them off the page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.reports.charts import bars, table
from bot.services.figures import URGENCIES, Figures

__all__ = ["OUTCOME_LABELS", "STYLE", "headline", "report_page", "sections"]

OUTCOME_LABELS = {"resolved_confirmed": "resolved, confirmed", "resolved_potential": "resolved, potential",
                  "escalated": "escalated", "abandoned": "abandoned", "declined": "declined",
                  "in_progress": "in progress"}
STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}td{font-variant-numeric:tabular-nums}"
    ".pair{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.pair svg{max-width:100%;height:auto}"
    ".numbers{display:flex;flex-wrap:wrap;gap:1em;padding:0;list-style:none}"
    ".numbers li{border:1px solid #ccc;padding:.5em 1em}.numbers b{display:block;font-size:1.6em}"
    ".error{color:#a00}nav a{margin-right:1em}"
    "@media print{nav,.noprint{display:none}body{margin:0;font-size:10pt}.pair svg{width:48%}"
    "section{break-inside:avoid}}"
)


def headline(figures: Figures) -> str:
    """The numbers a manager asks for first, as a list."""
    d, s = figures.deflection, figures.savings
    by = ", ".join(f"{n} {kind}" for kind, n in d["escalated_by"].items())
    items = [
        ("conversations", "deflection.conversations", d["conversations"]),
        ("resolved by the bot", "deflection.rate", f"{d['rate']:.0%}"),
        ("resolved, confirmed", "deflection.resolved_confirmed", d["resolved_confirmed"]),
        ("resolved, potential", "deflection.resolved_potential", d["resolved_potential"]),
        (f"escalated ({by})" if by else "escalated", "deflection.escalated", d["escalated"]),
        ("abandoned", "deflection.abandoned", d["abandoned"]),
        ("declined (out of scope)", "deflection.declined", d["declined"]),
        ("still in progress", "deflection.in_progress", d["in_progress"]),
        ("hours saved (estimate)", "savings.hours", s["hours"]),
        ("saved (estimate)", "savings.money", f"{s['currency']}{s['money']:,.0f}"),
    ]
    return "<ul class=numbers>" + "".join(
        f"<li><b data-figure=\"{escape(key)}\">{escape(str(value))}</b>{escape(label)}</li>"
        for label, key, value in items) + "</ul>"


def _section(title: str, chart: str, tables: str, note: str = "") -> str:
    intro = f"<p>{escape(note)}</p>" if note else ""
    return f"<section><h2>{escape(title)}</h2>{intro}<div class=pair>{chart}<div>{tables}</div></div></section>"


def _deflection(figures: Figures) -> str:
    keys = list(OUTCOME_LABELS)
    weeks = figures.weeks
    chart = bars("Conversations by week and outcome", [w["week"] for w in weeks],
                 [(OUTCOME_LABELS[k], [w[k] for w in weeks]) for k in keys], stacked=True)
    rows = [[w["week"], *[w[k] for k in keys]] for w in weeks]
    return _section("Deflection per week", chart,
                    table("Conversations by week begun and outcome", ["week of", *OUTCOME_LABELS.values()], rows))


def _volume(figures: Figures) -> str:
    volume = figures.volume
    parts = []
    for key, title in (("by_skill", "skill"), ("by_intent", "intent"), ("by_department", "department"),
                       ("by_channel", "channel")):
        counts = volume[key]
        chart = bars(f"Conversations by {title}", list(counts), [("conversations", list(counts.values()))],
                     horizontal=True, width=440, height=max(160, 40 + 26 * len(counts)))
        parts.append(_section(f"Volume by {title}", chart,
                              table(f"Conversations by {title}", [title, "conversations"], list(counts.items()))))
    return "".join(parts)


def _topics(figures: Figures) -> str:
    topics = figures.top_topics
    chart = bars("Topics ending escalated or abandoned", [t["topic"] for t in topics],
                 [("escalated", [t["escalated"] for t in topics]), ("abandoned", [t["abandoned"] for t in topics])],
                 stacked=True, horizontal=True, height=max(180, 60 + 28 * len(topics)))
    rows = [[t["topic"], t["escalated"], t["abandoned"], t["total"]] for t in topics]
    missed = table("Messages the bot did not understand, grouped",
                   ["for example", "times"], [[m["for_example"], m["times"]] for m in figures.not_understood])
    return _section("What to write next", chart,
                    table("Top topics ending escalated or abandoned", ["topic", "escalated", "abandoned", "total"],
                          rows) + missed,
                    "The articles and training examples that would help most.")


def _accounts(figures: Figures) -> str:
    accounts = figures.accounts
    columns = ("requested", "approved", "denied", "expired", "failed", "waiting")
    actions = accounts["by_action"]
    chart = bars("Password resets and unlocks", [a.replace("_", " ") for a in actions],
                 [(c, [actions[a][c] for a in actions]) for c in columns[1:]], stacked=True)
    rows = [[a.replace("_", " "), *[actions[a][c] for c in columns]] for a in actions]
    rows.append(["all", *[accounts[c] for c in columns]])
    minutes = accounts["median_minutes_to_decision"]
    note = (f"A technician decided {accounts['decisions']} of them; median time to decision {minutes} minutes."
            if minutes is not None else "No technician decisions in this period.")
    return _section("Password resets and unlocks", chart,
                    table("Resets and unlocks by how they ended", ["request", *columns], rows), note)


def _tickets(figures: Figures) -> str:
    tickets = figures.ticket_figures
    hours = tickets["median_hours_to_first_response"]
    note = (f"{tickets['opened']} tickets opened through the bot. "
            + (f"Median time to the first technician response: {hours} hours ({tickets['responses_known']} known)."
               if hours is not None else "No technician response recorded yet."))
    by_age = tickets["open_by_age"]
    if by_age is None:
        return _section("Tickets", "<p class=error>The ticket system did not answer; open tickets unknown.</p>",
                        "", note)
    ages = [age for age, counts in by_age.items() if age != "age unknown" or sum(counts.values())]
    chart = bars("Open tickets by age and urgency", ages,
                 [(u, [by_age[a][u] for a in ages]) for u in URGENCIES], stacked=True)
    rows = [[age, *[by_age[age][u] for u in URGENCIES], sum(by_age[age].values())] for age in ages]
    return _section("Tickets", chart, table("Open tickets by age and urgency (urgent first)",
                                            ["age", *URGENCIES, "all"], rows), note)


def _announcements(figures: Figures) -> str:
    notices = figures.announcement_figures
    labels = [f"#{n['id']} {n['title']}" for n in notices]
    chart = bars("Announcements: delivered and acknowledged", labels,
                 [("delivered", [n["delivered"] for n in notices]),
                  ("acknowledged", [n["acknowledged"] for n in notices]),
                  ("unacknowledged", [n["unacknowledged"] for n in notices])],
                 horizontal=True, height=max(180, 60 + 36 * len(notices)))
    rows = [[f"#{n['id']} {n['title']}", n["sent"], n["delivered"], n["acknowledged"], n["unacknowledged"]]
            for n in notices]
    return _section("Announcements", chart, table(
        "Announcements sent in the period", ["notice", "sent", "delivered", "acknowledged", "unacknowledged"], rows),
        "Acknowledgements are counted only for notices that asked for them.")


def _savings(figures: Figures) -> str:
    s = figures.savings
    rows = [["resolved conversations", s["resolved"]], ["of them resets and unlocks", s["resets"]],
            ["cost of a ticket", f"{s['currency']}{s['cost_per_ticket']:,.2f}"],
            ["cost of a password reset", f"{s['currency']}{s['cost_per_reset']:,.2f}"],
            ["desk minutes per ticket", s["minutes_per_ticket"]], ["hours saved", s["hours"]],
            ["money saved", f"{s['currency']}{s['money']:,.2f}"]]
    return _section("Estimated savings", "", table("How the estimate is made", ["figure", "value"], rows),
                    "Resolved conversations at the cost of a ticket (a reset or unlock at the cost of a reset); "
                    "set HELPDESK_COST_PER_TICKET, HELPDESK_COST_PER_RESET and HELPDESK_MINUTES_PER_TICKET.")


def sections(figures: Figures) -> str:
    """The manager's part of the page: headline numbers, then each chart beside its table."""
    return (headline(figures) + _deflection(figures) + _volume(figures) + _topics(figures) + _accounts(figures)
            + _tickets(figures) + _announcements(figures) + _savings(figures))


def report_page(figures: Figures, title: str) -> str:
    """The printable one-page monthly report: the same charts and tables, no navigation."""
    period: dict[str, Any] = figures.period
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>{escape(period['label'])}: {escape(period['start'])} to {escape(period['end'])}</p>"
        + sections(figures) + "</body></html>"
    )
