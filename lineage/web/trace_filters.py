"""The trace browser's filters and its keyset pagination.

Filters come from the query string, so every filtered view is a link. A bad
value is dropped with a note for the page to show, never an error.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from lineage.observability.jsonsafe import clean_text
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType

PAGE_SIZE = 25
MAX_SEARCH_LENGTH = 200
# Status counts above the table stop counting here (“1,000+”).
COUNT_CAP = 1000
# The “N new runs” bar counts no further (“100+ new runs”).
NEW_CAP = 100

# The list shows runs (a root trace with everything it caused) or every
# trace. Filters on what a single trace is — its type, status, source,
# definition or text — ask for traces, so their links (public) keep showing
# traces; with ?view=runs they apply to each run's first trace.
RUNS, TRACES = "runs", "traces"

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
WINDOW_CHOICES = [
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("custom", "Custom range"),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: the (started_at, id) of its last row."""

    started_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        micros = (self.started_at - _EPOCH) // _MICROSECOND
        return f"{micros}_{self.id.hex}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """Raises ValueError for anything but a cursor this module wrote."""
        micros, _, hex_id = value.partition("_")
        return cls(_EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id))


@dataclass
class TraceFilters:
    trace_type: str = ""
    status: str = ""
    source: str = ""
    window: str = ""
    start: datetime | None = None
    end: datetime | None = None
    q: str = ""
    subject: str = ""
    view: str = RUNS
    view_chosen: bool = False
    cursor: Cursor | None = None
    since: Cursor | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.trace_type or self.status or self.source or self.window or self.q or self.subject
        )

    @property
    def asks_for_traces(self) -> bool:
        return bool(self.trace_type or self.status or self.source or self.subject or self.q)

    @property
    def shows_runs(self) -> bool:
        return self.view == RUNS


def parse_trace_filters(query: QueryDict) -> TraceFilters:
    filters = TraceFilters()
    filters.trace_type = _choice(query, "type", TraceType, filters.notes)
    filters.status = _choice(query, "status", TraceStatus, filters.notes)
    filters.source = _choice(query, "source", TraceSource, filters.notes)
    # A NUL cannot go into a PostgreSQL string; as U+FFFD it simply matches nothing.
    filters.q = clean_text(query.get("q", "").strip()[:MAX_SEARCH_LENGTH])
    filters.subject = clean_text(query.get("subject", "").strip()[:100])
    _parse_window(query, filters)
    filters.view = _view(query, filters)
    filters.cursor = _cursor(query, "cursor", filters.notes)
    filters.since = _cursor(query, "since", [])
    return filters


def _view(query: QueryDict, filters: TraceFilters) -> str:
    view = query.get("view", "").strip()
    if view in (RUNS, TRACES):
        filters.view_chosen = True
        return view
    if view:
        filters.notes.append(f"Unknown view “{view}” ignored.")
    return TRACES if filters.asks_for_traces else RUNS


def _cursor(query: QueryDict, name: str, notes: list[str]) -> Cursor | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return Cursor.decode(raw)
    except (ValueError, OverflowError):
        notes.append("The page position in the link is not valid; showing the newest traces.")
        return None


def _choice(query: QueryDict, name: str, choices, notes: list[str]) -> str:
    value = query.get(name, "").strip()
    if value and value not in choices.values:
        notes.append(f"Unknown {name} “{value}” ignored.")
        return ""
    return value


def _parse_window(query: QueryDict, filters: TraceFilters) -> None:
    window = query.get("window", "").strip()
    if window and window not in WINDOWS and window != "custom":
        filters.notes.append(f"Unknown time window “{window}” ignored.")
        return
    filters.window = window
    if window != "custom":
        return
    filters.start = _moment(query, "from", filters.notes)
    filters.end = _moment(query, "to", filters.notes)
    if filters.start and filters.end and filters.start >= filters.end:
        filters.notes.append("The custom range ends before it starts; the range was ignored.")
        filters.start = filters.end = None


def _moment(query: QueryDict, name: str, notes: list[str]) -> datetime | None:
    """A date or date-time (as a datetime-local input sends it), in the display time zone."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        notes.append(f"“{raw}” is not a date and time; “{name}” was ignored.")
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def filter_traces(
    traces: QuerySet[ExecutionTrace], filters: TraceFilters, now: datetime
) -> QuerySet[ExecutionTrace]:
    if filters.trace_type:
        traces = traces.filter(trace_type=filters.trace_type)
    if filters.status:
        traces = traces.filter(status=filters.status)
    if filters.source:
        traces = traces.filter(source=filters.source)
    if filters.subject:
        traces = traces.filter(subject=filters.subject)  # trace_subject
    if filters.window in WINDOWS:
        traces = traces.started_between(now - WINDOWS[filters.window])
    traces = traces.started_between(filters.start, filters.end)
    if filters.q:
        traces = traces.matching_text(filters.q)
    return traces


def keyset_page(
    traces: QuerySet[ExecutionTrace], cursor: Cursor | None, size: int = PAGE_SIZE
) -> tuple[list[ExecutionTrace], Cursor | None]:
    """One page, newest first, after `cursor`; and the cursor of the next page.
    Never OFFSET: a deep page costs what the first does."""
    traces = traces.newest_first()
    if cursor is not None:
        traces = traces.before_position(cursor.started_at, cursor.id)
    rows = list(traces[: size + 1])
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], Cursor(last.started_at, last.id)
