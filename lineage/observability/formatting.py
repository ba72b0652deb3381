"""How numbers, times, durations, lists and JSON read, everywhere: in
explanations, answers, pages, the admin and the terminal. One spelling each."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from lineage.observability.redaction import redact_value


def format_number(value: object) -> str:
    """12840.0 → “12,840”; 0.125 → “0.125”; text stays text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def format_time(moment: datetime | None) -> str:
    """“10:05” today, “Nov 27 10:05” on another day (in the display time zone)."""
    if moment is None:
        return "an unknown time"
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return local.strftime("%b %-d %H:%M")


def format_timestamp(moment: datetime | None) -> str:
    """The exact time with its zone, the same on every page and in the
    admin: “Nov 27, 2026 10:05:03 UTC”."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return local.strftime("%b %-d, %Y %H:%M:%S ") + (local.tzname() or "")


def format_day_time(moment: datetime | None) -> str:
    """“10:05” today, “21:15 yesterday”, “Nov 27 10:05” before that."""
    if moment is None:
        return "an unknown time"
    local = timezone.localtime(moment)
    days = (timezone.localdate() - local.date()).days
    if days == 1:
        return local.strftime("%H:%M yesterday")
    return format_time(moment)


def format_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """“just now”, “42 s ago”, “12 min ago”, “5 h ago” within a day; the
    day and time (format_time) after that. static/js/lineage.js keeps the
    same words current on an open page."""
    if moment is None:
        return "—"
    seconds = ((now or timezone.now()) - moment).total_seconds()
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return format_time(moment)


def timezone_name() -> str:
    """The display time zone's short name (“UTC”, “CET”), as the pages show it."""
    return timezone.localtime().tzname() or str(timezone.get_current_timezone())


def cut_middle(text: str, limit: int) -> str:
    """Long text cut in the middle, so both what failed (the start) and the
    cause (the end: “… Connection refused”) stay visible."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 5
    tail = limit - 1 - head
    return f"{text[:head].rstrip()} … {text[-tail:].lstrip()}"


def format_duration(value: timedelta | None) -> str:
    """“340 ms”, “4.2 s”, “3 min 5 s”, “2 h 4 min”; “—” while unfinished."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{max(seconds, 0) * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def format_json(value: object) -> str:
    """Indented JSON with sorted keys, secrets masked, as plain text (escape
    it for HTML)."""
    return json.dumps(
        redact_value(value), indent=2, ensure_ascii=False, sort_keys=True, default=str
    )


def join_phrases(parts: Iterable[str], conjunction: str = "and") -> str:
    """“a”, “a and b”, “a, b and c” (or “a, b or c”)."""
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {conjunction} " + parts[-1]


def quoted(name: object) -> str:
    """A definition's or a step's name, as every sentence spells it: “Page ops”."""
    return f"“{name}”"


def sentence_case(text: str) -> str:
    """The first letter upper case, the rest as written (names keep theirs)."""
    return text[:1].upper() + text[1:]


def times(count: int) -> str:
    """“once”, “twice”, “3 times”."""
    return {1: "once", 2: "twice"}.get(count, f"{format_number(count)} times")


# C0 and C1 control characters, DEL included: an ESC sequence in a name must
# not reach a terminal raw.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with control characters written as \\u001b-style escapes, so a
    name or an error prints as what it is (and JSON stays valid JSON).
    Newlines and tabs stay when `keep_newlines` (multi-line errors)."""
    pattern = _CONTROL_BUT_LINES if keep_newlines else _CONTROL
    return pattern.sub(lambda match: f"\\u{ord(match[0]):04x}", text)
