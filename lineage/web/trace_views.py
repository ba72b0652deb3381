"""The trace browser, the Failures page and a trace's page.

A view that serves HTMX renders a named partial of its own template for an
HTMX request and the whole page otherwise, and varies on HX-Request.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from lineage.assistant.compare import compare_runs
from lineage.execution.rerun import CannotRerun, is_rerunnable, rerun
from lineage.metrics.schedules import Ticks, ticks_between
from lineage.observability.explain import generate_explanation
from lineage.observability.graph import COLOURS, DEFAULT_GRAPH_DEPTH, MAX_GRAPH_DEPTH, SHAPES
from lineage.observability.history import (
    History,
    Run,
    group_by_cause,
    group_runs,
    histories_of,
    history_of,
)
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType
from lineage.observability.store import get_trace_lineage
from lineage.web.access import can_run, get_trace_or_404, org_traces, visible_traces
from lineage.web.rendering import page_or_partial, show_trace
from lineage.web.trace_filters import (
    COUNT_CAP,
    NEW_CAP,
    PAGE_SIZE,
    WINDOW_CHOICES,
    Cursor,
    TraceFilters,
    filter_traces,
    keyset_page,
    parse_trace_filters,
)
from lineage.workflows.describers import planned_steps

GRAPH_DEPTHS = range(1, MAX_GRAPH_DEPTH + 1)
# A page of runs reads their traces this deep, and this many in all.
RUN_DEPTH = 10
RUN_TRACES_CAP = 1000
# An expanded run lists at most this many of its traces.
EXPANDED_CAP = 100
_UNFINISHED = (TraceStatus.RUNNING, TraceStatus.PENDING)


@require_GET
@vary_on_headers("HX-Request")
def trace_list(request: HttpRequest) -> HttpResponse:
    """Runs (default) or every trace, filtered, keyset-paged; while the
    first page is open, a bar polls for what arrived since it was drawn."""
    filters = parse_trace_filters(request.GET)
    now = timezone.now()
    if filters.since is not None and request.htmx:
        return _arrivals(request, filters, now)
    rows, next_cursor = keyset_page(_listed(request, filters, now), filters.cursor)
    runs = _runs_of(rows) if filters.shows_runs else []
    context = {
        "traces": rows,
        "runs": runs,
        "filters": filters,
        "next_cursor": next_cursor.encode() if next_cursor else "",
        "newest": _position(rows[0]) if rows and filters.cursor is None else "",
        "live_ids": _unfinished(filters, runs, rows),
        "counts": filter_traces(org_traces(request), filters, now).status_counts(COUNT_CAP + 1),
        "count_cap": COUNT_CAP,
        "type_choices": TraceType.choices,
        "status_choices": TraceStatus.choices,
        "source_choices": TraceSource.choices,
        "window_choices": WINDOW_CHOICES,
    }
    return render(request, page_or_partial(request, "web/trace_list.html", "trace-table"), context)


def _listed(request: HttpRequest, filters: TraceFilters, now):
    traces = org_traces(request)
    return filter_traces(traces.runs() if filters.shows_runs else traces, filters, now)


def _position(trace: ExecutionTrace) -> str:
    return Cursor(trace.started_at, trace.id).encode()


def _unfinished(filters: TraceFilters, runs: list[Run], traces: list[ExecutionTrace]) -> list:
    """Ids of the rows still going, whose fresh state the bar's poll brings."""
    if filters.shows_runs:
        return [run.root.id for run in runs if run.status in _UNFINISHED]
    return [trace.id for trace in traces if trace.status in _UNFINISHED]


def _runs_of(roots: list[ExecutionTrace]) -> list[Run]:
    """The page's runs with their traces: one query for all of them."""
    traces = ExecutionTrace.objects.traces_of_runs(roots, RUN_DEPTH, RUN_TRACES_CAP) if roots else []
    return group_runs(roots, traces)


def _arrivals(request: HttpRequest, filters: TraceFilters, now) -> HttpResponse:
    """The “3 new runs — show” bar, and fresh rows for the runs (or traces)
    of the page that were still going: swapped in place, out of band, so
    the table never moves under the reader and focus stays where it was."""
    since = filters.since
    arrived = _listed(request, filters, now).newer_than(since.started_at, since.id)
    live_ids = _parse_ids(request.GET.get("live", ""))
    live = list(org_traces(request).filter(id__in=live_ids).newest_first()) if live_ids else []
    runs = _runs_of(live) if filters.shows_runs and live else []
    context = {
        "filters": filters,
        "new_count": arrived.count_up_to(NEW_CAP),
        "new_cap": NEW_CAP,
        "newest": since.encode(),
        "live_ids": _unfinished(filters, runs, live),
        "fresh_runs": runs,
        "fresh_traces": [] if filters.shows_runs else live,
    }
    return render(request, "web/trace_list.html#arrivals", context)


def _parse_ids(raw: str) -> list[uuid.UUID]:
    ids = []
    for part in raw.split(",")[:PAGE_SIZE]:
        try:
            ids.append(uuid.UUID(part.strip()))
        except ValueError:
            continue
    return ids


@require_GET
def run_traces(request: HttpRequest, trace_id: object) -> HttpResponse:
    """An expanded run: the traces it is made of, nearest the root first."""
    root = get_trace_or_404(request, trace_id)
    lineage = get_trace_lineage(root.id, "down", MAX_GRAPH_DEPTH)
    traces = lineage.ordered_nodes()
    context = {"root": root, "members": traces[:EXPANDED_CAP], "more": len(traces) - EXPANDED_CAP}
    return render(request, "web/trace_list.html#run-traces", context)


# The Failures page reads at most this many failed runs (the newest of the
# window), shows this many causes at first and adds as many with each “more”.
FAILURES_READ = 10_000
CAUSES_SHOWN = 20
MAX_CAUSES_SHOWN = 200
RUNS_PER_DEFINITION = 50
DEFINITIONS_SHOWN = 10  # per cause
FAILURE_WINDOWS = {"1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
_FAILURE_SPANS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
                  "30d": timedelta(days=30)}


@require_GET
def failures(request: HttpRequest) -> HttpResponse:
    """Failed runs in a time window, grouped by root cause across
    definitions; within a cause, by definition (and step) with its history."""
    window = request.GET.get("window", "24h")
    if window not in _FAILURE_SPANS:
        window = "24h"
    shown = _bounded_int(request.GET.get("causes"), CAUSES_SHOWN, MAX_CAUSES_SHOWN)
    start = timezone.now() - _FAILURE_SPANS[window]
    causes = group_by_cause(org_traces(request).failure_groups_since(start, FAILURES_READ))
    page = causes[:shown]
    for group in page:
        group.keep_first(DEFINITIONS_SHOWN)
    subjects = sorted({t.subject for group in page for t in group.failed if t.subject})
    outcomes = (
        ExecutionTrace.objects.latest_outcomes_of(request.organization.pk, subjects, RUNS_PER_DEFINITION)
        if subjects else []
    )
    histories = histories_of(outcomes, RUNS_PER_DEFINITION)
    for group in page:
        for trace in group.failed:
            trace.history = histories.get(trace.subject)
    context = {
        "causes": page,
        "window": window,
        "windows": FAILURE_WINDOWS,
        "more": len(causes) - shown,
        "next_shown": min(shown + CAUSES_SHOWN, MAX_CAUSES_SHOWN) if shown < MAX_CAUSES_SHOWN else 0,
        "read_cap": FAILURES_READ,
    }
    return render(request, "web/failures.html", context)


def _bounded_int(raw: str | None, default: int, most: int) -> int:
    try:
        return max(1, min(int(raw or default), most))
    except ValueError:
        return default


@require_GET
@vary_on_headers("HX-Request")
def trace_detail(request: HttpRequest, trace_id: object) -> HttpResponse:
    """A trace's page. While the trace runs, its live part (header,
    explanation, steps, error) polls this URL and is swapped in place; the
    response that finds it finished tells the lineage panel to redraw."""
    trace = get_trace_or_404(request, trace_id)
    now = timezone.now()
    explanation = generate_explanation(trace.id)
    history = _history(request, trace)
    earlier, later = (
        ExecutionTrace.objects.for_org(trace.org_id).previous_and_next(trace)
        if trace.subject else (None, None)
    )
    waterfall = workflow_waterfall(trace, now) if trace.trace_type == TraceType.WORKFLOW else None
    context = {
        "trace": trace,
        "now": now,
        # Changes when the graph would: the live page redraws it then (lineage.js).
        "graph_key": _graph_key(trace, waterfall),
        "is_live": trace.status in _UNFINISHED,
        "elapsed": (trace.completed_at or now) - trace.started_at,
        "explanation": explanation,
        "crumbs": explanation.steps[-CRUMBS:],
        "crumbs_cut": len(explanation.steps) > CRUMBS,
        "history": history,
        "earlier": earlier,
        "later": later,
        "waterfall": waterfall,
        "can_rerun": is_rerunnable(trace) and can_run(request, trace.org_id),
        "ticks_skipped": ticks_skipped(trace),
        "depths": GRAPH_DEPTHS,
        "default_depth": DEFAULT_GRAPH_DEPTH,
        "legend_shapes": [(kind.label, SHAPES[kind]) for kind in TraceType],
        "legend_colours": [(status.label, COLOURS[status][0]) for status in TraceStatus],
    }
    response = render(request, page_or_partial(request, "web/trace_detail.html", "trace-live"), context)
    if request.htmx and not context["is_live"]:
        trigger_client_event(response, "lineage-changed")
    return response


def _graph_key(trace: ExecutionTrace, waterfall: Waterfall | None) -> str:
    steps = [step.trace.status for step in (waterfall.steps if waterfall else []) if step.trace]
    return f"{trace.status}:{','.join(steps)}"


# Breadcrumbs show the chain's last few traces (Traces › … › Page ops › step 1).
CRUMBS = 4


def _history(request: HttpRequest, trace: ExecutionTrace) -> History | None:
    """The definition's recent outcomes, for a failed run's triage line."""
    if not trace.subject or trace.status != TraceStatus.FAILED:
        return None
    return history_of(ExecutionTrace.objects.for_org(trace.org_id), trace.subject)


@require_GET
def trace_compare(request: HttpRequest, trace_id: object) -> HttpResponse:
    """A run beside another run of the same definition (?with=<id>), or
    beside its previous run: inputs, the definition as it was at each run,
    outcomes, steps, led by what explains the difference."""
    trace = get_trace_or_404(request, trace_id)
    other_id = request.GET.get("with")
    if other_id:
        other = get_trace_or_404(request, other_id)
    else:
        other = visible_traces(request).previous_run(trace)
    comparison = compare_runs(trace, other) if other is not None and other.id != trace.id else None
    return render(request, "web/trace_compare.html", {"trace": trace, "comparison": comparison})


@require_POST
@vary_on_headers("HX-Request")
def trace_rerun(request: HttpRequest, trace_id: object) -> HttpResponse:
    """A new manual run of a failed metric or workflow run, linked to it."""
    trace = get_trace_or_404(request, trace_id)
    if not can_run(request, trace.org_id):
        raise PermissionDenied("Only editors and owners can start runs.")
    try:
        new_trace_id = rerun(trace)
    except CannotRerun as reason:
        messages.error(request, f"This run was not re-run: {reason}.")
        return show_trace(request, trace.id)
    return show_trace(request, new_trace_id)


def ticks_skipped(trace: ExecutionTrace) -> Ticks | None:
    """A scheduled metric that runs late runs once, for the oldest tick it
    owes: the ticks after that one, up to its start, did not run separately."""
    inputs = trace.inputs or {}
    if trace.source != TraceSource.SCHEDULE or not inputs.get("schedule"):
        return None
    tick = parse_datetime(str(inputs.get("scheduled_for") or ""))
    if tick is None:
        return None
    return ticks_between(inputs["schedule"], tick, trace.started_at)


@dataclass
class StepRun:
    """A row of a workflow run's waterfall: a step that ran, placed on the
    run's time axis (offset and width in % of the run's duration so far),
    or one of the plan that never ran (no trace)."""

    position: int
    name: str
    kind: str
    trace: ExecutionTrace | None = None
    offset: timedelta | None = None
    took: timedelta | None = None
    left: float = 0.0
    width: float = 0.0


@dataclass
class Waterfall:
    steps: list[StepRun]
    total: timedelta
    ticks: list[tuple[float, timedelta]]


def workflow_waterfall(workflow_trace: ExecutionTrace, now: datetime) -> Waterfall:
    """The step traces of a workflow run in the order they started, each
    placed on a time axis from the run's start to its end (or to now while
    it runs), then the planned steps that did not run."""
    start = workflow_trace.started_at
    steps = list(ExecutionTrace.objects.steps_of(workflow_trace))
    end = workflow_trace.completed_at or now
    end = max([end, *[(s.completed_at or now) for s in steps]])
    total = max(end - start, timedelta(milliseconds=1))
    ran = [_placed(number, step, start, total, now) for number, step in enumerate(steps, start=1)]
    ticks = [(percent, total * percent / 100) for percent in (0, 25, 50, 75, 100)]
    return Waterfall(ran + _steps_not_run(workflow_trace, {r.position for r in ran}), total, ticks)


def _placed(number: int, step: ExecutionTrace, start: datetime, total: timedelta, now) -> StepRun:
    offset = max(step.started_at - start, timedelta(0))
    took = (step.completed_at or now) - step.started_at
    left = min(offset / total * 100, 100.0)
    width = min(max(took / total * 100, 0.6), 100.0 - left)
    return StepRun(
        step.inputs.get("position", number), step.name, step.inputs.get("kind", ""),
        step, offset, took, round(left, 2), round(width, 2),
    )


def _steps_not_run(workflow_trace: ExecutionTrace, positions_run: set[int]) -> list[StepRun]:
    if workflow_trace.status in _UNFINISHED:
        return []  # not run yet is not “did not run”
    return [
        StepRun(step.get("position"), step.get("name", ""), step.get("kind", ""))
        for step in planned_steps(workflow_trace)
        if step.get("position") not in positions_run
    ]
