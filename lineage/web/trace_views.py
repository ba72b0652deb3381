"""The trace browser, the Failures page and a trace's page.

A view that serves HTMX renders a named partial of its own template for an
HTMX request and the whole page otherwise, and varies on HX-Request.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from lineage.execution.rerun import CannotRerun, is_rerunnable, rerun
from lineage.observability.explain import generate_explanation
from lineage.observability.graph import COLOURS, DEFAULT_GRAPH_DEPTH, MAX_GRAPH_DEPTH, SHAPES
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType
from lineage.web.access import can_run, get_trace_or_404, org_traces
from lineage.web.rendering import page_or_partial, show_trace
from lineage.web.trace_filters import (
    WINDOW_CHOICES,
    filter_traces,
    keyset_page,
    parse_trace_filters,
)

GRAPH_DEPTHS = range(1, MAX_GRAPH_DEPTH + 1)


@require_GET
@vary_on_headers("HX-Request")
def trace_list(request: HttpRequest) -> HttpResponse:
    filters = parse_trace_filters(request.GET)
    traces = filter_traces(org_traces(request), filters, timezone.now())
    rows, next_cursor = keyset_page(traces, filters.cursor)
    context = {
        "traces": rows,
        "filters": filters,
        "next_cursor": next_cursor.encode() if next_cursor else "",
        "any_running": any(trace.status == TraceStatus.RUNNING for trace in rows),
        "type_choices": TraceType.choices,
        "status_choices": TraceStatus.choices,
        "source_choices": TraceSource.choices,
        "window_choices": WINDOW_CHOICES,
    }
    return render(request, page_or_partial(request, "web/trace_list.html", "trace-table"), context)


@require_GET
def failures(request: HttpRequest) -> HttpResponse:
    return render(request, "web/failures.html", {"groups": org_traces(request).failure_groups()})


@require_GET
def trace_detail(request: HttpRequest, trace_id: object) -> HttpResponse:
    trace = get_trace_or_404(request, trace_id)
    context = {
        "trace": trace,
        "explanation": generate_explanation(trace.id),
        "steps": workflow_steps(trace) if trace.trace_type == TraceType.WORKFLOW else [],
        "can_rerun": is_rerunnable(trace) and can_run(request, trace.org_id),
        "depths": GRAPH_DEPTHS,
        "default_depth": DEFAULT_GRAPH_DEPTH,
        "legend_shapes": [(kind.label, SHAPES[kind]) for kind in TraceType],
        "legend_colours": [(status.label, COLOURS[status][0]) for status in TraceStatus],
    }
    return render(request, "web/trace_detail.html", context)


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


@dataclass
class StepRun:
    """A row of a workflow run's steps: a step that ran (with its trace and
    duration bar) or one of the plan that never ran (no trace)."""

    position: int
    name: str
    kind: str
    trace: ExecutionTrace | None = None
    bar_percent: float = 0.0


def workflow_steps(workflow_trace: ExecutionTrace) -> list[StepRun]:
    """The step traces of a workflow run in the order they ran, each with a
    bar as long as its share of the slowest step, then the planned steps
    that did not run."""
    steps = list(ExecutionTrace.objects.steps_of(workflow_trace))
    longest = max((s.duration.total_seconds() for s in steps if s.duration), default=0)
    ran = [
        StepRun(
            step.inputs.get("position", number),
            step.name,
            step.inputs.get("kind", ""),
            step,
            _share(step, longest),
        )
        for number, step in enumerate(steps, start=1)
    ]
    return ran + _steps_not_run(workflow_trace, {run.position for run in ran})


def _steps_not_run(workflow_trace: ExecutionTrace, positions_run: set[int]) -> list[StepRun]:
    if workflow_trace.status == TraceStatus.RUNNING:
        return []  # not run yet is not “did not run”
    plan = (workflow_trace.inputs or {}).get("steps")
    if not isinstance(plan, list):
        return []  # a run recorded before plans were
    return [
        StepRun(step.get("position"), step.get("name", ""), step.get("kind", ""))
        for step in plan
        if isinstance(step, dict) and step.get("position") not in positions_run
    ]


def _share(step: ExecutionTrace, longest: float) -> float:
    if not step.duration or longest <= 0:
        return 0.0
    return max(round(step.duration.total_seconds() / longest * 100, 1), 1.0)
