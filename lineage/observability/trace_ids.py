"""Finding a trace from the part of its id a person pastes.

People copy what the pages show: a whole id, the last 8 digits (the short
id), or the first few. The terminal commands and the assistant resolve them
the same way, always within the traces the caller may see.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.db.models.lookups import StartsWith
from django.utils import timezone

from lineage.observability.models import ExecutionTrace, reversed_id
from lineage.observability.store import TraceNotFound

MIN_ID_DIGITS = 6
# Eight digits repeat (an 8-digit suffix is 32 random bits: ~100 pairs among a
# million traces), so a short id means the recent trace when an old one shares it.
RECENT_IDS = timedelta(days=7)
_HEX = re.compile(r"[0-9a-f]+")


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
    return len(digits) >= 8 or any(c.isdigit() for c in digits)


def matching_id_fragment(
    traces: QuerySet[ExecutionTrace], fragment: str, now: datetime | None = None
) -> QuerySet[ExecutionTrace]:
    """Traces whose id starts with `fragment`, or else ends with it: those
    of the last week when there are any, else all of them."""
    digits = fragment.replace("-", "")
    by_prefix = traces.filter(id_prefix(digits))
    if by_prefix.exists():
        return by_prefix
    by_suffix = traces.filter(id_suffix(fragment))
    recent = by_suffix.filter(started_at__gte=(now or timezone.now()) - RECENT_IDS)
    return recent if recent.exists() else by_suffix


def the_only_match(matches: QuerySet[ExecutionTrace], shown: str) -> ExecutionTrace:
    """The one trace in `matches`; TraceNotFound when there is none or several."""
    found = list(matches.order_by("-started_at")[:2])
    if not found:
        raise TraceNotFound(f"No trace id matches “{shown}”.")
    if len(found) > 1:
        raise TraceNotFound(f"Several traces match “{shown}”; give more of the id.")
    return found[0]


def find_trace_by_id(value: str, traces: QuerySet[ExecutionTrace] | None = None) -> ExecutionTrace:
    """A trace from a whole id, or a unique prefix or suffix of at least
    six hex digits. TraceNotFound, with a message for the user, otherwise."""
    traces = ExecutionTrace.objects.all() if traces is None else traces
    text = value.strip().lower()
    try:
        trace_id = uuid.UUID(text)
    except ValueError:
        return the_only_match(matching_id_fragment(traces, _checked_fragment(value, text)), text)
    trace = traces.filter(pk=trace_id).first()
    if trace is None:
        raise TraceNotFound(f"No trace with id {trace_id}.")
    return trace


def _checked_fragment(value: str, text: str) -> str:
    digits = text.replace("-", "")
    if not _HEX.fullmatch(digits) or not MIN_ID_DIGITS <= len(digits) < 32:
        raise TraceNotFound(
            f"“{value}” is not a trace id: give the whole id, or at least its first or "
            f"last {MIN_ID_DIGITS} hex digits."
        )
    return text
