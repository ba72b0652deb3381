"""Time phrases people type — "this morning", "since Monday", "3 days ago",
"on Saturday", "last week", "over the weekend", "at 10:05", "on 2026-11-27" —
as windows of time in the display time zone.

A phrase names a span, not a moment: "3 days ago" is that whole day, "2
hours ago" the hour around then, "on Saturday" the last Saturday. Words that
look like time but are not understood ("last quarter") are reported, so an
answer can say which window it used instead.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]  # fmt: skip
_UNITS = {
    "minute": "minutes", "min": "minutes", "m": "minutes",
    "hour": "hours", "hr": "hours", "h": "hours",
    "day": "days", "d": "days",
    "week": "weeks", "w": "weeks",
}  # fmt: skip
_UNIT = r"(minute|min|hour|hr|h|day|d|week|w)s?"
_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
_FULL_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
# Short weekday names only after a word that makes them a day ("on Sat").
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE = r"(\d{4})-(\d{2})-(\d{2})"  # ISO 8601, as people paste dates
# Longer look-backs are cut here: no trace is older, and dates stay in range.
MAX_LOOKBACK = timedelta(days=3660)
# Words that only ever speak of time: one of them outside every phrase
# understood is a phrase that was not.
_TIME_WORDS = re.compile(
    r"\b(?:(?:last|past|previous|this|next|in|on|at|since|before|after|during|around|early|late)\s+)?"
    r"(?:ago|noon|midnight|fortnight|quarter|year|years|month|months|weekend|weekends|"
    r"morning|afternoon|evening|night|tonight|" + _FULL_WEEKDAY[1:-1] + r"|"
    # Not "may" and "march", which are words before they are months.
    r"january|february|april|june|july|august|september|october|november|december)\b"
    r"(?:\s+ago\b)?"
)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    label: str

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class TimePhrases:
    """The windows a question names, in the order it names them, and what
    looked like time but was not understood."""

    windows: list[Window]
    not_understood: list[str]

    @property
    def first(self) -> Window | None:
        return self.windows[0] if self.windows else None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _clock(hour: str, minute: str | None, meridiem: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    if meridiem == "pm" and h < 12:
        h += 12
    if meridiem == "am" and h == 12:
        h = 0
    if h > 23 or m > 59:
        return None
    return time(h, m)


def _at(now: datetime, clock: time) -> datetime:
    """Today at `clock`, or yesterday when that is still to come."""
    moment = timezone.make_aware(datetime.combine(now.date(), clock))
    return moment - timedelta(days=1) if moment > now else moment


def parse_window(text: str, now: datetime | None = None) -> Window | None:
    """The first time phrase in `text`, or None."""
    return find_time_phrases(text, now).first


def find_time_phrases(text: str, now: datetime | None = None) -> TimePhrases:
    """Every time phrase in `text` (lower case or not), in order."""
    now = timezone.localtime(now or timezone.now())
    today = _midnight(now.date())
    lowered = text.lower()
    taken: list[tuple[int, int, Window]] = []
    for pattern, build in _RULES:
        for match in re.finditer(pattern, lowered):
            if any(match.start() < end and start < match.end() for start, end, _ in taken):
                continue
            window = build(match, now, today)
            if window is not None:
                taken.append((match.start(), match.end(), window))
    taken.sort(key=lambda item: item[0])
    unread = [
        match[0]
        for match in _TIME_WORDS.finditer(lowered)
        if not any(start <= match.start() < end for start, end, _ in taken)
    ]
    return TimePhrases([window for _, _, window in taken], unread)


# --- Look-backs: "in the last 3 hours", "since Monday" ------------------------------


def _last_n(match, now, today):
    count = 1 if match[1] in (None, "a", "an") else int(match[1])
    unit = _UNITS[match[2]]
    label = f"in the last {count} {unit}" if count != 1 else f"in the last {unit[:-1]}"
    return Window(now - _span(unit, count), now, label)


def _span(unit: str, count: int) -> timedelta:
    try:
        return min(timedelta(**{unit: count}), MAX_LOOKBACK)
    except OverflowError:  # "the last 99999999999 days"
        return MAX_LOOKBACK


def _since_weekday(match, now, today):
    day = _last_weekday(match[1], now, include_today=True)
    return Window(_midnight(day), now, f"since {_weekday_name(match[1]).title()}")


def _since_clock(match, now, today):
    clock = _clock(match[1], match[2], match[3])
    if clock is None:
        return None
    return Window(_at(now, clock), now, f"since {clock:%H:%M}")


# --- Moments ago: a span around then -------------------------------------------------


def _ago(match, now, today):
    """“3 days ago” is that day; “2 hours ago” the hour around then; “20
    minutes ago” the minutes around then; “2 weeks ago” that week."""
    count = 1 if match[1] in ("a", "an") else int(match[1])
    unit = _UNITS[match[2]]
    said = f"{count} {unit if count != 1 else unit[:-1]} ago"
    if unit == "days":
        day = (now - _span(unit, count)).date()
        return Window(*_day_span(day, day, now), f"{said} (on {_day_label(day, now)})")
    if unit == "weeks":
        monday = now.date() - timedelta(days=now.weekday()) - _span("weeks", count)
        return _week(monday, now, said)
    moment = now - _span(unit, count)
    half = timedelta(minutes=30) if unit == "hours" else max(timedelta(minutes=count / 4), timedelta(minutes=1))
    start, end = moment - half, min(moment + half, now)
    return Window(start, end, f"about {said} ({_clock_label(start)}–{_clock_label(end)})")


def _clock_label(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


# --- Days: "on Saturday", "last Tuesday", "yesterday", dates -------------------------


def _weekday_name(text: str) -> str:
    return next(day for day in WEEKDAYS if day.startswith(text[:3]))


def _last_weekday(text: str, now: datetime, *, include_today: bool) -> date:
    """The latest such day up to today (today itself only when included)."""
    back = (now.weekday() - WEEKDAYS.index(_weekday_name(text))) % 7
    if back == 0 and not include_today:
        back = 7
    return now.date() - timedelta(days=back)


def _on_weekday(match, now, today):
    """“on Saturday”, “Saturday”, “this Saturday”: the latest Saturday, today
    included; “last Saturday”: the latest one before today."""
    last = match[1] in ("last", "past", "previous")
    day = _last_weekday(match[2], now, include_today=not last)
    name = _weekday_name(match[2]).title()
    return Window(*_day_span(day, day, now), f"{'last' if last else 'on'} {name} ({_day_label(day, now)})")


def _day_before_yesterday(match, now, today):
    day = now.date() - timedelta(days=2)
    return Window(*_day_span(day, day, now), f"the day before yesterday ({_day_label(day, now)})")


def _last_night(match, now, today):
    start = today - timedelta(hours=6)
    return Window(start, min(now, today + timedelta(hours=6)), "last night")


def _date(year: int | str, month: int | str, day: int | str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 2026-13-45
        return None


def _day_label(day: date, now: datetime) -> str:
    label = f"{day:%b} {day.day}"
    return label if day.year == now.year else f"{label}, {day.year}"


def _day_span(first: date, last: date, now: datetime) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last` (never past now). A day
    further than MAX_LOOKBACK either way is cut to that bound, so "since
    0001-01-01" stays a moment Python and PostgreSQL can hold."""
    end = _start_of(last + timedelta(days=1), now) if last < date.max else now + MAX_LOOKBACK
    return _start_of(first, now), end


def _start_of(day: date, now: datetime) -> datetime:
    earliest, latest = now - MAX_LOOKBACK, now + MAX_LOOKBACK
    if day <= earliest.date():
        return earliest
    if day >= latest.date():
        return latest
    return _midnight(day)


def _on_date(match, now, today):
    day = _date(match[1], match[2], match[3])
    if day is None:
        return None
    return Window(*_day_span(day, day, now), f"on {_day_label(day, now)}")


def _month_number(text: str) -> int:
    return next(number for number, month in enumerate(MONTHS, 1) if month.startswith(text[:3]))


def _past_date(month: int, day: int, now: datetime) -> date | None:
    """That day this year, or last year when it is still to come."""
    found = _date(now.year, month, day)
    if found is not None and found > now.date():
        found = _date(now.year - 1, month, day)
    return found


def _on_month_day(match, now, today):
    """“on Nov 20”, “November 20th”, “20 November”."""
    month, day = (match[1], match[2]) if match[1] else (match[4], match[3])
    found = _past_date(_month_number(month), int(day), now)
    if found is None:
        return None
    return Window(*_day_span(found, found, now), f"on {_day_label(found, now)}")


def _since_date(match, now, today):
    day = _date(match[1], match[2], match[3])
    if day is None:
        return None
    start = _start_of(day, now)
    return Window(start, max(start, now), f"since {_day_label(day, now)}")


def _between_dates(match, now, today):
    first, last = _date(*match.groups()[:3]), _date(*match.groups()[3:])
    if first is None or last is None:
        return None
    first, last = min(first, last), max(first, last)  # "between the 22nd and the 20th"
    label = f"between {_day_label(first, now)} and {_day_label(last, now)}"
    return Window(*_day_span(first, last, now), label)


# --- Weeks, weekends, months -----------------------------------------------------------


def _week(monday: date, now: datetime, said: str) -> Window:
    sunday = monday + timedelta(days=6)
    start, end = _day_span(monday, sunday, now)
    return Window(start, min(end, max(start, now)), f"{said} ({_span_label(monday, sunday, now)})")


def _span_label(first: date, last: date, now: datetime) -> str:
    if first.month == last.month:
        return f"{_day_label(first, now)}–{last.day}"
    return f"{_day_label(first, now)} – {_day_label(last, now)}"


def _last_week(match, now, today):
    monday = now.date() - timedelta(days=now.weekday() + 7)
    return _week(monday, now, "last week")


def _weekend(match, now, today):
    """The latest weekend (the one going on, on a Saturday or Sunday);
    “last weekend” on a weekend is the one before."""
    saturday = now.date() - timedelta(days=(now.weekday() - 5) % 7)
    if match[1] == "last" and now.weekday() >= 5:
        saturday -= timedelta(days=7)
    sunday = saturday + timedelta(days=1)
    start, end = _day_span(saturday, sunday, now)
    said = "last weekend" if match[1] == "last" else "over the weekend"
    return Window(start, min(end, now), f"{said} ({_span_label(saturday, sunday, now)})")


def _month(first: date, now: datetime, label: str) -> Window:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start, end = _day_span(first, following - timedelta(days=1), now)
    return Window(start, min(end, max(start, now)), label)


def _this_month(match, now, today):
    return _month(now.date().replace(day=1), now, "this month")


def _last_month(match, now, today):
    first = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    return _month(first, now, f"last month ({first:%B})")


def _in_month(match, now, today):
    month = _month_number(match[1])
    year = now.year if month <= now.month else now.year - 1
    first = date(year, month, 1)
    return _month(first, now, f"in {first:%B}" + ("" if year == now.year else f" {year}"))


# --- Clock times: "at 10:05", "between 9 and 11" ---------------------------------------


def _between(match, now, today):
    start = _clock(match[1], match[2], match[3] or match[6])
    end = _clock(match[4], match[5], match[6])
    if start is None or end is None:
        return None
    if end <= start and not match[6] and end.hour < 12:
        end = time(end.hour + 12, end.minute)  # "between 9 and 2" means 2 pm
    day = today if timezone.make_aware(datetime.combine(now.date(), start)) <= now else today - timedelta(days=1)
    begin = timezone.make_aware(datetime.combine(day.date(), start))
    finish = timezone.make_aware(datetime.combine(day.date(), end))
    if finish <= begin:
        return None
    return Window(begin, finish, f"between {start:%H:%M} and {end:%H:%M}")


def _at_clock(match, now, today):
    clock = _clock(match[1], match[2], match[3])
    if clock is None:
        return None
    start = _at(now, clock)
    return Window(start, start + timedelta(minutes=1), f"at {clock:%H:%M}")


def _part_of_today(start_hour: int, end_hour: int, label: str):
    def build(match, now, today):
        return Window(today + timedelta(hours=start_hour), min(now, today + timedelta(hours=end_hour)), label)

    return build


def _fixed(label: str, start: Callable, end: Callable):
    def build(match, now, today):
        return Window(start(now, today), end(now, today), label)

    return build


_YESTERDAY = _fixed("yesterday", lambda now, today: today - timedelta(days=1), lambda now, today: today)

# The order settles overlaps: a phrase found by an earlier rule is not read
# again by a later one ("since 2026-11-20" is not also "on Nov 20").
_RULES = [
    (r"\bbetween\s+" + DATE + r"\s+and\s+" + DATE + r"\b", _between_dates),
    (r"\bfrom\s+" + DATE + r"\s+(?:to|until|till)\s+" + DATE + r"\b", _between_dates),
    (r"\bsince\s+" + DATE + r"\b", _since_date),
    (r"\b(?:on\s+)?" + DATE + r"\b", _on_date),
    (r"\bbetween\s+" + _CLOCK + r"\s+and\s+" + _CLOCK, _between),
    (r"\bfrom\s+" + _CLOCK + r"\s+(?:to|until|till)\s+" + _CLOCK, _between),
    (r"\b(\d+|an?)\s*" + _UNIT + r"\s+ago\b", _ago),
    # "last week" is the week before this one; "in the last week" the last 7 days.
    (r"\b(?<!the )(?<!past )last week\b", _last_week),
    (r"\b(?:last|past|previous)\s+(\d+|an?)?\s*" + _UNIT + r"\b", _last_n),
    (r"\b(?:in the |within the |within )(\d+)\s*" + _UNIT + r"\b", _last_n),
    (r"\b(?:the\s+)?day before yesterday\b", _day_before_yesterday),
    (r"\bsince\s+" + _WEEKDAY + r"\b", _since_weekday),
    (r"\b(?:(?:over|during|on|at)\s+)?(?:the\s+|this\s+|(last)\s+)weekend\b", _weekend),
    (r"\b(?:on\s+|(last|past|previous)\s+|this\s+)?" + _FULL_WEEKDAY + r"(?:'s)?\b(?!\s*\d)", _on_weekday),
    (r"\b(?:on\s+|(last|past|previous)\s+|this\s+)" + _WEEKDAY + r"\b(?!\s*\d)", _on_weekday),
    (r"\b(?:on\s+)?(?:" + _MONTH + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r")\b", _on_month_day),
    (r"\bthis month\b", _this_month),
    (r"\blast month\b", _last_month),
    (r"\bin\s+" + _MONTH + r"\b", _in_month),
    (r"\bsince\s+yesterday\b", _fixed("since yesterday", lambda now, today: today - timedelta(days=1), lambda now, today: now)),
    (r"\bsince\s+" + _CLOCK + r"\b", _since_clock),
    (r"\blast night\b", _last_night),
    (r"\bthis morning\b", _part_of_today(0, 12, "this morning")),
    (r"\bthis afternoon\b", _part_of_today(12, 18, "this afternoon")),
    (r"\b(?:this evening|tonight)\b", _part_of_today(18, 24, "this evening")),
    (r"\byesterday\b", _YESTERDAY),
    (r"\b(?:earlier\s+)?today\b", _fixed("today", lambda now, today: today, lambda now, today: now)),
    (r"\bthis week\b", _fixed("this week", lambda now, today: today - timedelta(days=now.weekday()), lambda now, today: now)),
    (r"\b(?:at\s+)?(\d{1,2})[:.h](\d{2})\s*(am|pm)?\b", _at_clock),
    (r"\bat\s+(\d{1,2})()\s*(am|pm)\b", _at_clock),
]
