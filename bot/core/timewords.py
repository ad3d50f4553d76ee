"""Times in words, read in the city's time zone: "tonight 9pm", "Sat 6-10am", "every first Monday 8am".

Technicians write times the way they say them. This module reads the forms a
helpdesk uses and nothing fancier: a day (today, tonight, tomorrow, a weekday,
"next Friday", a date such as 2026-11-28, 11/28 or "Nov 28"), a time (9pm,
9:30, noon, midnight) or a range ("6-10am", "6am to 10am", "8am-noon"), and
for recurring notices "every [first] Monday 8am", "every weekday 7:30am",
"every day 9am" or five-field cron text ("0 8 * * 1"). Results are aware
datetimes in UTC; local wall times that do not exist on a DST change day move
forward by the gap, as the clocks do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

__all__ = ["Schedule", "Window", "parse_recurrence", "parse_schedule", "parse_when", "parse_window"]

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}
_MONTHS = {name: number for number, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")), start=1) for name in names}
_CRON_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ORDINALS = {"first": "1st", "1st": "1st", "second": "2nd", "2nd": "2nd", "third": "3rd", "3rd": "3rd",
             "fourth": "4th", "4th": "4th", "last": "last"}

_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MO = "|".join(sorted(_MONTHS, key=len, reverse=True))
_T = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midnight)"
_DAY = re.compile(
    rf"\b(?P<word>today|tonight|tomorrow|(?:next\s+|this\s+)?(?:{_WD}))\b\.?"
    rf"|\b(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})\b"
    rf"|\b(?P<us>\d{{1,2}})/(?P<usd>\d{{1,2}})(?:/(?P<usy>\d{{2,4}}))?\b"
    rf"|\b(?P<mon>{_MO})\.?\s+(?P<mday>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?P<mday2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon2>{_MO})\b",
    re.IGNORECASE,
)
_RANGE = re.compile(
    rf"(?<![\w:/-])(?P<a>{_T})\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b|\bthrough\b)\s*(?P<b>{_T})(?![\w:])",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"(?<![\w:/-])(?P<t>\d{1,2}:\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|noon|midnight)"
    r"(?![\w:])|\bat\s+(?P<bare>\d{1,2})\b(?![:/-])",
    re.IGNORECASE,
)
# "since 9am": a start that has passed. "back by 3pm", "until noon": an end, from now.
# A clock time that cannot be a count: "by 3pm", "since 9:30", never "reported by 3 people".
_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midnight)"
_SINCE = re.compile(rf"\bsince\s+(?:about\s+|around\s+)?(?P<t>{_CLOCK})(?![\w:])", re.IGNORECASE)
_UNTIL = re.compile(rf"\b(?:by|until|till|til|before|back\s+(?:at|around|about))\s+(?:about\s+|around\s+)?"
                    rf"(?P<t>{_CLOCK})(?![\w:])", re.IGNORECASE)
# Words that cannot end a title once the time words after them are gone ("maintenance on").
_CONNECTIVES = frozenset({"on", "at", "from", "between", "starting", "this", "for"})
_CRON = re.compile(r"^\s*[\d*/,\-a-z?]+(\s+[\d*/,\-a-z?]+){4}\s*$", re.IGNORECASE)
_EVERY = re.compile(
    rf"^\s*(?:every|each)\s+(?:(?P<ord>first|second|third|fourth|last|1st|2nd|3rd|4th)\s+)?"
    rf"(?P<what>day|weekday|{_WD})s?\b(?P<rest>.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Window:
    """A start and an optional end found in a text, and the part of the text they were read from."""

    start: datetime | None
    end: datetime | None
    span: tuple[int, int] | None = None

    def strip_from(self, text: str) -> str:
        """A title from ``text``: without the time words when they close it ("email maintenance Saturday
        6am to 10am" is "email maintenance"), else the words as written."""
        if self.span is None:
            return text.strip()
        left, right = self.span
        if text[right:].strip(" .,;:!-"):
            return text.strip()
        words = text[:left].strip(" ,;:-").split(" ")
        if len(words) > 1 and words[-1].lower() in _CONNECTIVES:
            words.pop()
        return " ".join(words).strip(" ,;:-")


@dataclass(frozen=True)
class Schedule:
    """When to send: ``now``, once ``at`` a time, or on a recurring ``trigger`` (described by ``text``)."""

    kind: str
    at: datetime | None = None
    trigger: CronTrigger | None = None
    text: str = ""


def _clock(raw: str, meridiem_hint: str | None = None) -> tuple[time, bool]:
    """Read one time; returns it and whether it said am/pm (or noon/midnight) itself."""
    raw = raw.strip().lower().replace(".", "")
    if raw == "noon":
        return time(12, 0), True
    if raw == "midnight":
        return time(0, 0), True
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", raw)
    if not match:
        raise ValueError(f"{raw!r} is not a time")
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    explicit = meridiem is not None
    meridiem = meridiem or meridiem_hint
    if minute > 59 or hour > 23 or (meridiem and not 1 <= hour <= 12):
        raise ValueError(f"{raw!r} is not a time")
    if meridiem == "pm" and hour != 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    return time(hour, minute), explicit


def _meridiem(raw: str) -> str | None:
    raw = raw.lower().replace(".", "")
    return "am" if raw.endswith("am") else "pm" if raw.endswith("pm") else None


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware UTC moment of wall time ``at`` on ``day``.

    A time skipped by the spring-forward change reads with the offset from before
    it (2:30 becomes 3:30 daylight time); a repeated one in the autumn is the first.
    """
    return datetime.combine(day, at).replace(tzinfo=zone).astimezone(UTC)


def _day(match: re.Match[str], today: date) -> tuple[date, bool]:
    """The date a day phrase names, and whether it was "tonight"."""
    if match.group("word"):
        word = re.sub(r"\s+", " ", match.group("word").lower())
        if word == "today":
            return today, False
        if word == "tonight":
            return today, True
        if word == "tomorrow":
            return today + timedelta(days=1), False
        nxt = word.startswith("next ")
        weekday = _WEEKDAYS[word.split(" ")[-1]]
        ahead = (weekday - today.weekday()) % 7
        if nxt and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead), False
    if match.group("iso"):
        return date.fromisoformat(match.group("iso")), False
    if match.group("us"):
        month, mday = int(match.group("us")), int(match.group("usd"))
        year = match.group("usy")
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, mday), False
        return _next_date(today, month, mday), False
    month = _MONTHS[(match.group("mon") or match.group("mon2")).lower()]
    mday = int(match.group("mday") or match.group("mday2"))
    return _next_date(today, month, mday), False


def _next_date(today: date, month: int, mday: int) -> date:
    candidate = date(today.year, month, mday)
    return candidate if candidate >= today else date(today.year + 1, month, mday)


def parse_window(text: str, now: datetime, timezone: str, *, today_if_passed: bool = False) -> Window:
    """The start and end of the time window ``text`` mentions, if any.

    "Saturday 6am to 10am", "Sat 6-10am", "tonight 9pm", "tomorrow 7-9am",
    "5-6pm today", "friday at noon". With a time and no day, the next such time.
    A weekday means the next one (today's when its time has not passed yet).
    ``today_if_passed`` reads a bare time that has passed as today's. "since 9am"
    is a start that has passed (no end); "back by 3pm" or "until noon" an end with
    no start (the caller's "from now").
    """
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    day_match = _DAY.search(text)
    chosen: date | None = None
    tonight = weekday_named = False
    if day_match:
        try:
            chosen, tonight = _day(day_match, today)
        except ValueError as exc:
            raise ValueError(f"{day_match.group(0)!r} is not a date: {exc}") from None
        weekday_named = bool(day_match.group("word")) and day_match.group("word").lower() not in (
            "today", "tonight", "tomorrow")
    start_time = end_time = None
    time_span: tuple[int, int] | None = None
    if (found := _RANGE.search(text)) is not None:
        hint_b = _meridiem(found.group("b"))
        try:
            end_time, _ = _clock(found.group("b"))
            start_time, explicit = _clock(found.group("a"), hint_b or ("pm" if tonight else None))
            if not explicit and hint_b == "pm" and start_time > end_time:
                start_time, _ = _clock(found.group("a"), "am")  # "11-1pm" starts at 11am
        except ValueError:
            start_time = end_time = None
        else:
            time_span = found.span()
    since, until = _SINCE.search(text), _UNTIL.search(text)
    if start_time is None and (since or until):
        return _open_ended(since, until, chosen, local_now, zone)
    if start_time is None and (single := _TIME.search(text)) is not None:
        raw = single.group("t") or single.group("bare")
        hint = "pm" if tonight or (single.group("bare") and int(raw) < 8) else None
        start_time, _ = _clock(raw, None if single.group("t") else hint)
        time_span = single.span()
    if start_time is None:
        return Window(None, None, day_match.span() if day_match else None)
    if chosen is None:
        chosen = today if today_if_passed or start_time > local_now.time() else today + timedelta(days=1)
    elif weekday_named and chosen == today and start_time <= local_now.time():
        chosen = today + timedelta(days=7)
    start = _local(chosen, start_time, zone)
    end = None
    if end_time is not None:
        end = _local(chosen, end_time, zone)
        if end <= start:
            end = _local(chosen + timedelta(days=1), end_time, zone)
    spans = [s for s in (day_match.span() if day_match else None, time_span) if s]
    span = (min(s[0] for s in spans), max(s[1] for s in spans))
    if day_match and time_span and text[min(day_match.end(), time_span[1]):max(day_match.start(), time_span[0])
                                        ].strip(" ,at").strip():
        span = time_span  # the day and time are apart; strip only the time words
    return Window(start, end, span)


def _open_ended(since: re.Match[str] | None, until: re.Match[str] | None, chosen: date | None,
                local_now: datetime, zone: ZoneInfo) -> Window:
    """"since 9am" (today's 9am once it has passed, else yesterday's) and "back by 3pm" (the next 3pm after
    the start or now), or both. The title keeps these words (no span)."""
    day = chosen or local_now.date()
    start = end = None
    if since is not None:
        start = _local(day, _bare(since.group("t")), zone)
        if chosen is None and start > local_now:
            start = _local(day - timedelta(days=1), _bare(since.group("t")), zone)
    if until is not None:
        at = _bare(until.group("t"))
        end = _local(day, at, zone)
        if chosen is None and end <= (start or local_now):
            end = _local(day + timedelta(days=1), at, zone)
    return Window(start, end)


def _bare(raw: str) -> time:
    """A time in "since 9:30" or "until 2:30": without am or pm, an hour before 8 is in the afternoon."""
    at, explicit = _clock(raw)
    if not explicit and 1 <= at.hour < 8:
        return time(at.hour + 12, at.minute)
    return at


def parse_when(text: str, now: datetime, timezone: str, *, today_if_passed: bool = False) -> datetime:
    """One moment from ``text`` ("tonight 9pm", "Sat 6am", "since 9am", "by 3pm", "2026-11-28 06:00");
    ValueError if there is none."""
    window = parse_window(text, now, timezone, today_if_passed=today_if_passed)
    moment = window.start or window.end
    if moment is None:
        raise ValueError(f'I could not read a time in "{text.strip()[:80]}". Write it like "Sat 6am" or "tonight 9pm".')
    return moment


def _cron_weekdays(text: str) -> str:
    """Cron text with numeric weekdays named: cron counts 0 or 7 as Sunday, APScheduler 0 as Monday."""
    fields = text.split()
    names = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
    fields[4] = re.sub(r"(?<![/\d])\d+", lambda m: names[int(m.group(0)) % 7], fields[4])
    return " ".join(fields)


def parse_recurrence(text: str, timezone: str) -> CronTrigger | None:
    """A recurring schedule ("every first Monday 8am", "every weekday 7:30am", cron text), or None."""
    zone = ZoneInfo(timezone)
    if _CRON.match(text):
        try:
            return CronTrigger.from_crontab(_cron_weekdays(text.strip()), timezone=zone)
        except ValueError as exc:
            raise ValueError(f'"{text.strip()}" is not valid cron text: {exc}') from None
    match = _EVERY.match(text)
    if not match:
        return None
    rest = match.group("rest")
    found = _TIME.search(rest)
    if found is None:
        raise ValueError(f'"{text.strip()}" needs a time, like "every first Monday 8am".')
    raw = found.group("t") or found.group("bare")
    at, _ = _clock(raw, None if found.group("t") else ("pm" if int(raw) < 8 else None))
    what = match.group("what").lower()
    ordinal = match.group("ord")
    fields: dict[str, str | int] = {"hour": at.hour, "minute": at.minute}
    if what == "day":
        if ordinal:
            raise ValueError(f'"{text.strip()}": "every first day" is not supported; name a weekday.')
    elif what == "weekday":
        fields["day_of_week"] = "mon-fri"
    elif ordinal:
        fields["day"] = f"{_ORDINALS[ordinal.lower()]} {_CRON_DAY[_WEEKDAYS[what]]}"
    else:
        fields["day_of_week"] = _CRON_DAY[_WEEKDAYS[what]]
    return CronTrigger(timezone=zone, **fields)


def parse_schedule(text: str, now: datetime, timezone: str) -> Schedule:
    """When to send: "now" (or empty), a recurrence, or one moment (which must be in the future)."""
    cleaned = text.strip()
    if cleaned.lower() in ("", "now", "right now", "immediately", "asap"):
        return Schedule("now", text="now")
    trigger = parse_recurrence(cleaned, timezone)
    if trigger is not None:
        return Schedule("cron", trigger=trigger, text=cleaned)
    at = parse_when(cleaned, now, timezone)
    if at <= now:
        raise ValueError(f'"{cleaned}" is in the past. Give a time that is still to come, or say "now".')
    return Schedule("at", at=at, text=cleaned)
