"""Time phrases people type — "this morning", "since Monday", "at 10:05",
"on 2026-11-27" — as windows of time in the display time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_UNITS = {
    "minute": "minutes", "min": "minutes", "m": "minutes",
    "hour": "hours", "hr": "hours", "h": "hours",
    "day": "days", "d": "days",
    "week": "weeks", "w": "weeks",
}  # fmt: skip
_UNIT = r"(minute|min|hour|hr|h|day|d|week|w)s?"
_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
DATE = r"(\d{4})-(\d{2})-(\d{2})"  # ISO 8601, as people paste dates
# Longer look-backs are cut here: no trace is older, and dates stay in range.
MAX_LOOKBACK = timedelta(days=3660)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    label: str

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _midnight(day) -> datetime:
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
    now = timezone.localtime(now or timezone.now())
    today = _midnight(now.date())
    lowered = text.lower()
    for pattern, build in _RULES:
        match = re.search(pattern, lowered)
        if match:
            window = build(match, now, today)
            if window is not None:
                return window
    return None


def _last_n(match, now, today):
    count = 1 if match[1] in (None, "a", "an") else int(match[1])
    unit = _UNITS[match[2]]
    label = f"in the last {count} {unit}" if count != 1 else f"in the last {unit[:-1]}"
    try:
        span = min(timedelta(**{unit: count}), MAX_LOOKBACK)
    except OverflowError:  # "the last 99999999999 days"
        span = MAX_LOOKBACK
    return Window(now - span, now, label)


def _since_weekday(match, now, today):
    days_back = (now.weekday() - WEEKDAYS.index(match[1])) % 7
    return Window(today - timedelta(days=days_back), now, f"since {match[1].title()}")


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


def _since_clock(match, now, today):
    clock = _clock(match[1], match[2], match[3])
    if clock is None:
        return None
    return Window(_at(now, clock), now, f"since {clock:%H:%M}")


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 2026-13-45
        return None


def _day_label(day: date, now: datetime) -> str:
    label = f"{day:%b} {day.day}"
    return label if day.year == now.year else f"{label}, {day.year}"


def _day_span(first: date, last: date, now: datetime) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`. A day further than
    MAX_LOOKBACK either way is cut to that bound, so "since 0001-01-01" stays
    a moment Python and PostgreSQL can hold."""
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


def _part_of_today(start_hour: int, end_hour: int, label: str):
    def build(match, now, today):
        return Window(today + timedelta(hours=start_hour), min(now, today + timedelta(hours=end_hour)), label)

    return build


_RULES = [
    (r"\bbetween\s+" + DATE + r"\s+and\s+" + DATE + r"\b", _between_dates),
    (r"\bfrom\s+" + DATE + r"\s+(?:to|until|till)\s+" + DATE + r"\b", _between_dates),
    (r"\bsince\s+" + DATE + r"\b", _since_date),
    (r"\b(?:on\s+)?" + DATE + r"\b", _on_date),
    (r"\bbetween\s+" + _CLOCK + r"\s+and\s+" + _CLOCK, _between),
    (r"\bfrom\s+" + _CLOCK + r"\s+(?:to|until|till)\s+" + _CLOCK, _between),
    (r"\b(?:last|past|previous)\s+(\d+|an?)?\s*" + _UNIT + r"\b", _last_n),
    (r"\b(?:in the |within the |within )(\d+)\s*" + _UNIT + r"\b", _last_n),
    (r"\b(\d+)\s*" + _UNIT + r"\s+ago\b", _last_n),
    (r"\bsince\s+(" + "|".join(WEEKDAYS) + r")\b", _since_weekday),
    (r"\bsince\s+yesterday\b", lambda m, now, today: Window(today - timedelta(days=1), now, "since yesterday")),
    (r"\bsince\s+" + _CLOCK + r"\b", _since_clock),
    (r"\bthis morning\b", _part_of_today(0, 12, "this morning")),
    (r"\bthis afternoon\b", _part_of_today(12, 18, "this afternoon")),
    (r"\b(?:this evening|tonight)\b", _part_of_today(18, 24, "this evening")),
    (r"\byesterday\b", lambda m, now, today: Window(today - timedelta(days=1), today, "yesterday")),
    (r"\btoday\b", lambda m, now, today: Window(today, now, "today")),
    (r"\bthis week\b", lambda m, now, today: Window(today - timedelta(days=now.weekday()), now, "this week")),
    (r"\b(?:at\s+)?(\d{1,2})[:.h](\d{2})\s*(am|pm)?\b", _at_clock),
    (r"\bat\s+(\d{1,2})()\s*(am|pm)\b", _at_clock),
]

