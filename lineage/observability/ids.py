"""Trace ids: making them, and reading the parts of them people paste.

Ids are time-ordered UUIDs (version 7 layout, RFC 9562): random UUIDv4
primary keys scatter inserts over the whole B-tree, while a 48-bit
millisecond timestamp prefix keeps new traces at the right edge of the index.

People copy what the pages show: a whole id, the last 8 digits (the short
id), or the first few. The conditions here find a trace from any of them
through an index; `ExecutionTrace.objects.find_by_id` puts them together.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Reverse
from django.db.models.lookups import StartsWith

MIN_ID_DIGITS = 6
SHORT_ID_DIGITS = 8
_HEX = re.compile(r"[0-9a-f]+")


class TraceNotFound(LookupError):
    """No trace answers to what was given; the message says why, for people."""


def uuid7(at: datetime | None = None) -> uuid.UUID:
    """A new time-ordered id; `at` stamps it with that moment instead of now
    (bulk loads of past traces keep ids in started_at order)."""
    if at is None:
        timestamp_ms = time.time_ns() // 1_000_000
    else:
        timestamp_ms = int(at.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (timestamp_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68 & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # 62 random bits
    return uuid.UUID(int=value)


def parse_trace_id(value: object) -> uuid.UUID:
    """A whole trace id from user input; TraceNotFound when it is not a UUID."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise TraceNotFound(f"“{value}” is not a trace id (expected a UUID).") from None


def short_trace_id(trace_id: object) -> str:
    """The last 8 hex digits of an id, for people. Not the first 8: a
    time-ordered id starts with its timestamp, the same for a minute's traces."""
    return str(trace_id)[-SHORT_ID_DIGITS:]


def reversed_id() -> Reverse:
    """The id as text read backwards: a short id (a suffix) becomes a prefix,
    which the trace_id_reversed index answers."""
    return Reverse(Cast("id", models.TextField()))


def id_prefix(digits: str) -> Q:
    """Ids starting with these hex digits, as a range the primary-key index
    answers (id::text LIKE 'abc%' would read every trace)."""
    return Q(id__gte=uuid.UUID(digits.ljust(32, "0")), id__lte=uuid.UUID(digits.ljust(32, "f")))


def id_suffix(text: str) -> Q:
    """Ids ending with `text` (as written, dashes included), through the
    trace_id_reversed index: the suffix read backwards is a prefix there."""
    return Q(StartsWith(reversed_id(), text[::-1]))


def id_fragment_condition(text: str) -> Q | None:
    """Ids starting or ending with `text` when it could be part of an id
    (6 to 32 hex digits, dashes allowed); None when it cannot."""
    text = text.strip().lower()
    digits = text.replace("-", "")
    if not _HEX.fullmatch(digits) or not MIN_ID_DIGITS <= len(digits) <= 32:
        return None
    return id_prefix(digits) | id_suffix(text)


def is_id_like(text: str) -> bool:
    """Six or more hex digits with at least one a digit, or eight hex letters
    and more: part of an id rather than a word. Six letters can be either
    ("facade", "decade"); eight, which a short id sometimes is ("eaeeeedd"),
    no English word is."""
    digits = text.strip().lower().replace("-", "")
    if not _HEX.fullmatch(digits) or len(digits) < MIN_ID_DIGITS:
        return False
    return len(digits) >= SHORT_ID_DIGITS or any(c.isdigit() for c in digits)


def checked_id_fragment(value: str) -> str:
    """`value` as a fragment to look ids up by (lower case, dashes kept);
    TraceNotFound, saying what to give instead, when it cannot be one."""
    text = value.strip().lower()
    digits = text.replace("-", "")
    if not _HEX.fullmatch(digits) or not MIN_ID_DIGITS <= len(digits) < 32:
        raise TraceNotFound(
            f"“{value}” is not a trace id: give the whole id, or at least its first or "
            f"last {MIN_ID_DIGITS} hex digits."
        )
    return text
