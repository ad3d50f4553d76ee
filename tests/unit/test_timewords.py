"""Times in words, in America/Chicago, including the DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.timewords import parse_recurrence, parse_schedule, parse_when, parse_window

CITY = "America/Chicago"
CHICAGO = ZoneInfo(CITY)
MONDAY_9AM = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Mon 23 Nov 2026, 09:00 CST


def local(moment: datetime | None) -> str:
    """``moment`` as Chicago wall time."""
    assert moment is not None
    return moment.astimezone(CHICAGO).strftime("%a %Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize(("text", "start", "end"), [
    ("tonight 9pm", "Mon 2026-11-23 21:00 CST", None),
    ("tonight at 10", "Mon 2026-11-23 22:00 CST", None),
    ("Sat 6-10am", "Sat 2026-11-28 06:00 CST", "Sat 2026-11-28 10:00 CST"),
    ("email maintenance Saturday 6am to 10am", "Sat 2026-11-28 06:00 CST", "Sat 2026-11-28 10:00 CST"),
    ("tomorrow 7-9am", "Tue 2026-11-24 07:00 CST", "Tue 2026-11-24 09:00 CST"),
    ("phones out 5-6pm today", "Mon 2026-11-23 17:00 CST", "Mon 2026-11-23 18:00 CST"),
    ("friday at noon", "Fri 2026-11-27 12:00 CST", None),
    ("saturday 8am-noon", "Sat 2026-11-28 08:00 CST", "Sat 2026-11-28 12:00 CST"),
    ("11-1pm thursday", "Thu 2026-11-26 11:00 CST", "Thu 2026-11-26 13:00 CST"),
    ("10pm-2am friday", "Fri 2026-11-27 22:00 CST", "Sat 2026-11-28 02:00 CST"),
    ("monday 8am", "Mon 2026-11-30 08:00 CST", None),
    ("monday 10am", "Mon 2026-11-23 10:00 CST", None),
    ("next monday 10am", "Mon 2026-11-30 10:00 CST", None),
    ("8am", "Tue 2026-11-24 08:00 CST", None),
    ("2026-12-05 06:00", "Sat 2026-12-05 06:00 CST", None),
    ("Dec 5 at 7:30am", "Sat 2026-12-05 07:30 CST", None),
    ("12/5 9pm", "Sat 2026-12-05 21:00 CST", None),
])
def test_windows(text: str, start: str, end: str | None) -> None:
    """Each phrase reads as the window a technician means."""
    window = parse_window(text, MONDAY_9AM, CITY)
    assert local(window.start) == start
    assert (local(window.end) if window.end else None) == end


def test_no_time_means_no_window_and_the_title_keeps_its_words() -> None:
    """A sentence with no time has no window; with one, the time words leave the title."""
    assert parse_window("the 2nd floor printer is jammed", MONDAY_9AM, CITY).start is None
    window = parse_window("email maintenance Saturday 6am to 10am", MONDAY_9AM, CITY)
    assert window.strip_from("email maintenance Saturday 6am to 10am") == "email maintenance"


def test_a_past_time_can_mean_today() -> None:
    """'since 8am' for an outage is this morning."""
    assert local(parse_when("8am", MONDAY_9AM, CITY, today_if_passed=True)) == "Mon 2026-11-23 08:00 CST"


def test_dst_spring_forward_and_fall_back() -> None:
    """Wall times across the changes: 9am stays 9am local; the skipped 2:30am moves to 3:30 CDT."""
    saturday = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)  # Sat 7 Mar 2026 12:00 CST; clocks spring forward Sunday
    sunday_9 = parse_when("tomorrow 9am", saturday, CITY)
    assert sunday_9 == datetime(2026, 3, 8, 14, 0, tzinfo=UTC) and local(sunday_9).endswith("CDT")
    assert local(parse_when("tomorrow 2:30am", saturday, CITY)) == "Sun 2026-03-08 03:30 CDT"
    window = parse_window("tonight 10pm-6am", saturday, CITY)
    assert window.end is not None and (window.end - window.start).total_seconds() == 7 * 3600  # type: ignore[operator]
    october = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # Sat 31 Oct 12:00 CDT; clocks fall back Sunday
    assert parse_when("sunday 9am", october, CITY) == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)


def test_every_first_monday() -> None:
    """'every first Monday 8am' fires on first Mondays at 8am Chicago time, across the DST change."""
    trigger = parse_recurrence("every first Monday 8am", CITY)
    assert trigger is not None
    first = trigger.get_next_fire_time(None, MONDAY_9AM)
    second = trigger.get_next_fire_time(first, first)
    march = trigger.get_next_fire_time(None, datetime(2027, 2, 15, tzinfo=UTC))
    april = trigger.get_next_fire_time(march, march)
    assert [local(m) for m in (first, second, march, april)] == [
        "Mon 2026-12-07 08:00 CST", "Mon 2027-01-04 08:00 CST", "Mon 2027-03-01 08:00 CST",
        "Mon 2027-04-05 08:00 CDT"]


@pytest.mark.parametrize(("text", "expected"), [
    ("0 8 * * 1", "Mon 2026-11-30 08:00 CST"),
    ("30 7 * * 1-5", "Tue 2026-11-24 07:30 CST"),
    ("every weekday 7:30am", "Tue 2026-11-24 07:30 CST"),
    ("every friday 4pm", "Fri 2026-11-27 16:00 CST"),
    ("every day 6pm", "Mon 2026-11-23 18:00 CST"),
])
def test_recurrences(text: str, expected: str) -> None:
    """Cron text counts weekdays as cron does (1 = Monday); words read as said."""
    trigger = parse_recurrence(text, CITY)
    assert trigger is not None and local(trigger.get_next_fire_time(None, MONDAY_9AM)) == expected


def test_schedules_and_mistakes() -> None:
    """'now', a future time, a recurrence; the past and nonsense are refused clearly."""
    assert parse_schedule("now", MONDAY_9AM, CITY).kind == "now"
    assert parse_schedule("", MONDAY_9AM, CITY).kind == "now"
    assert parse_schedule("Sat 8am", MONDAY_9AM, CITY).kind == "at"
    assert parse_schedule("every first Monday 8am", MONDAY_9AM, CITY).kind == "cron"
    with pytest.raises(ValueError, match="in the past"):
        parse_schedule("2026-11-01 08:00", MONDAY_9AM, CITY)
    with pytest.raises(ValueError, match="could not read a time"):
        parse_schedule("whenever", MONDAY_9AM, CITY)
    with pytest.raises(ValueError, match="not valid cron"):
        parse_recurrence("99 8 * * 1", CITY)
    with pytest.raises(ValueError, match="needs a time"):
        parse_recurrence("every monday", CITY)
    with pytest.raises(ValueError):
        parse_when("13pm", MONDAY_9AM, CITY)


NINE_41 = datetime(2026, 11, 23, 15, 41, tzinfo=UTC)  # Mon 23 Nov 2026, 09:41 CST


@pytest.mark.parametrize(("text", "start", "end"), [
    ("outlook is down, we expect it back by 3pm", None, "Mon 2026-11-23 15:00 CST"),
    ("since 9am", "Mon 2026-11-23 09:00 CST", None),
    ("phones dead since 8:15am, should be fixed by noon", "Mon 2026-11-23 08:15 CST", "Mon 2026-11-23 12:00 CST"),
    ("munis unavailable since 11pm", "Sun 2026-11-22 23:00 CST", None),
    ("vpn down until 2:30", None, "Mon 2026-11-23 14:30 CST"),
    ("kronos back by 8am tomorrow", None, "Tue 2026-11-24 08:00 CST"),
    ("the copier is out, back around 9am", None, "Tue 2026-11-24 09:00 CST"),
])
def test_open_ended_windows(text: str, start: str | None, end: str | None) -> None:
    """'since' is a start that has passed (today's, else yesterday's); 'by', 'until', 'back at' an end."""
    window = parse_window(text, NINE_41, CITY)
    assert (local(window.start) if window.start else None) == start
    assert (local(window.end) if window.end else None) == end


def test_an_end_alone_reads_as_that_moment_and_a_count_is_no_time() -> None:
    """The composer's end field takes "by 3pm"; "reported by 3 people" has no time at all."""
    assert local(parse_when("by 3pm", NINE_41, CITY)) == "Mon 2026-11-23 15:00 CST"
    window = parse_window("reported by 3 people", NINE_41, CITY)
    assert (window.start, window.end) == (None, None)


@pytest.mark.parametrize(("text", "title"), [
    ("email maintenance Saturday 6am to 10am", "email maintenance"),
    ("maintenance on saturday 6am to 10am", "maintenance"),
    ("outlook is down, we expect it back by 3pm", "outlook is down, we expect it back by 3pm"),
    ("phones out since 9am", "phones out since 9am"),
    ("outage 9am-10am for the permit counter", "outage 9am-10am for the permit counter"),
])
def test_a_title_keeps_the_technicians_words(text: str, title: str) -> None:
    """Time words leave a title only when they close it; otherwise it reads as written."""
    assert parse_window(text, NINE_41, CITY).strip_from(text) == title
