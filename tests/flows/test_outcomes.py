"""Conversation outcomes through the console: a scripted day yields exactly the expected /dashboard.json,
and the answered conversations settle as resolved_potential once the 72-hour window has passed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.nlu import EmbeddedParser
from tests.dashboard_day import MANAGER, TOKEN, dashboard_json, scripted_day
from tests.support import Chat, Clock, button, make_settings, running_bot, texts


@pytest.fixture
def desk(database_url: str, parser: EmbeddedParser, clock: Clock) -> Iterator[Chat]:
    """A started bot with the dashboard on, a manager, and the test's clock."""
    settings = make_settings(database_url, dashboard_token=TOKEN, managers=[MANAGER])
    with running_bot(settings, nlu=parser, clock=clock) as bot:
        yield Chat(bot)


async def test_a_scripted_day_gives_exactly_the_expected_outcomes(desk: Chat, clock: Clock) -> None:
    await scripted_day(desk)
    clock.advance(hours=2)  # eve's preview waited longer than HELPDESK_OUTCOME_IDLE (1 h)
    data = await dashboard_json(desk)
    assert data["deflection"] == {
        "conversations": 7, "resolved_confirmed": 1, "resolved_potential": 0, "escalated": 3, "abandoned": 1,
        "declined": 1, "in_progress": 1, "rate": round(1 / 7, 4), "escalated_by": {"handoff": 1, "ticket": 2},
    }
    assert data["volume"]["by_skill"] == {"howto": 3, "tickets": 2, "fallback": 1, "smalltalk": 1}
    assert data["volume"]["by_intent"] == {"howto": 3, "open_ticket": 2, "human_handoff": 1, "unknown": 1}
    assert data["volume"]["by_channel"] == {"console": 7}
    assert sum(week["escalated"] for week in data["weeks"]) == 3
    assert data["period"]["start"] < data["period"]["end"]
    assert {"tickets", "approvals", "outages", "announcements", "kb_gaps", "tickets_error"} <= set(data)
    assert data["ticket_figures"]["opened"] == 2 and data["ticket_figures"]["open"] == 2
    assert data["top_topics"] == [
        {"topic": "howto: vpn-from-home", "escalated": 1, "abandoned": 0, "total": 1},
        {"topic": "human_handoff", "escalated": 1, "abandoned": 0, "total": 1},
        {"topic": "open_ticket: computer", "escalated": 1, "abandoned": 0, "total": 1},
        {"topic": "open_ticket: printer", "escalated": 0, "abandoned": 1, "total": 1},
    ]


async def test_answers_settle_as_resolved_potential_after_72_hours(desk: Chat, clock: Clock) -> None:
    await scripted_day(desk)
    clock.advance(hours=71)
    before = (await dashboard_json(desk))["deflection"]
    assert before["resolved_potential"] == 0 and before["in_progress"] == 1
    clock.advance(hours=2)
    after = (await dashboard_json(desk))["deflection"]
    assert after["resolved_potential"] == 1 and after["in_progress"] == 0
    assert after["rate"] == round(2 / 7, 4)


async def test_a_ticket_within_the_window_means_the_answer_did_not_hold(desk: Chat, clock: Clock) -> None:
    """Bob's answer is followed by a ticket two days later: both end escalated, none is resolved."""
    await desk.say("bob@city.example", "how do I set up my out of office reply in outlook")
    clock.advance(hours=48)
    lines = await desk.say("bob@city.example", "outlook keeps crashing whenever i open my calendar")
    await desk.click("bob@city.example", button(lines, "Submit"))
    clock.advance(hours=30)
    deflection = (await dashboard_json(desk))["deflection"]
    assert deflection["escalated"] == 2 and deflection["resolved_potential"] == 0


async def test_a_manager_asks_how_we_are_doing_in_chat(desk: Chat) -> None:
    await scripted_day(desk)
    lines = await desk.say(MANAGER, "hey, hows the helpdesk bot doing so far this month?")
    answer = texts(lines)
    assert "7 conversations" in answer and "1 resolved by the bot" in answer
    assert "Dashboard: http://127.0.0.1:3000/dashboard?month=2026-11" in answer
    assert "Monthly report: http://127.0.0.1:3000/dashboard/report?month=2026-11" in answer
    refused = texts(await desk.say("ann@city.example", "what are our helpdesk numbers this month"))
    assert "only the IT managers" in refused and "conversations" not in refused
