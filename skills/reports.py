"""The manager's figures in chat: "how are we doing this month?" for the people in HELPDESK_MANAGERS."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import ClassVar

from bot.sdk import Context, Field, Figures, Intent, Period, Skill, Turn, month_of

__all__ = ["Reports"]

_LAST_MONTH = re.compile(r"\b(last|previous|past)\s+month\b", re.IGNORECASE)
_WEEK = re.compile(r"\bweek\b", re.IGNORECASE)


class Reports(Skill):
    """Headline figures and a link to the dashboard, for managers only."""

    name = "reports"
    summary = ""  # not offered in "help": it is for managers
    intents: ClassVar[tuple[Intent, ...]] = (
        Intent("manager_report", role="manager", label="How is the helpdesk doing?", offered=False,
               is_request=False),
    )

    async def handle(self, turn: Turn, ctx: Context) -> None:
        """Answer a manager with this month's (last month's, this week's) figures (the intent's role lets only
        managers in)."""
        timezone = ctx.settings.timezone
        if _WEEK.search(turn.text):
            period = Period.last_days(7, ctx.now())
            link = ctx.settings.link("/dashboard?days=7")
        else:
            month = month_of(ctx.now(), timezone)
            if _LAST_MONTH.search(turn.text):
                month = month_of(Period.of_month(month, timezone).start - timedelta(days=1), timezone)
            period = Period.of_month(month, timezone)
            link = ctx.settings.link(f"/dashboard?month={month}")
        figures = await ctx.figures(period)
        report = ctx.settings.link(f"/dashboard/report?month={month_of(period.start, timezone)}")
        await ctx.reply(summary_text(figures), fields=(Field("Dashboard", link), Field("Monthly report", report)),
                        private=True)


def summary_text(figures: Figures) -> str:
    """The headline figures in a few chat lines."""
    d, s = figures.deflection, figures.savings
    resolved = d["resolved_confirmed"] + d["resolved_potential"]
    by = ", ".join(f"{n} {kind}" for kind, n in d["escalated_by"].items())
    return (
        f"{figures.period['label'].capitalize()}: {d['conversations']} conversations, {resolved} resolved by the bot "
        f"({d['rate']:.0%}: {d['resolved_confirmed']} confirmed, {d['resolved_potential']} potential).\n"
        f"{d['escalated']} escalated{f' ({by})' if by else ''}, {d['abandoned']} abandoned, "
        f"{d['declined']} out of scope, {d['in_progress']} still going.\n"
        f"Estimated savings: {s['hours']} hours of desk time, about {s['currency']}{s['money']:,.0f}."
    )
