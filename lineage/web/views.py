"""The dashboard's pages.

Each view parses its input, calls one or two store functions and renders.
A view that serves HTMX renders a named partial of its own template for an
HTMX request and the whole page otherwise, and varies on HX-Request.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, QuerySet, TextField, Value, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from lineage.alerts.models import AlertRule
from lineage.execution.rerun import CannotRerun, is_rerunnable, rerun
from lineage.execution.scheduler import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.explain import (
    cause_of,
    describe,
    generate_explanation,
    join_phrases,
    origin,
)
from lineage.observability.graph import COLOURS, SHAPES
from lineage.observability.models import (
    ExecutionTrace,
    TraceSource,
    TraceStatus,
    TraceType,
)
from lineage.observability.store import recent_traces_for_subjects
from lineage.web.access import get_definition_or_404, get_trace_or_404, membership_for
from lineage.web.graph_views import DEFAULT_DEPTH
from lineage.web.middleware import SESSION_KEY
from lineage.web.trace_filters import (
    WINDOW_CHOICES,
    filter_traces,
    keyset_page,
    parse_trace_filters,
)
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Workflow

# Definition pages show this many recent runs; each needs its parent for its
# "why", fetched in one query for all of them.
RECENT_RUNS = 10
LINEAGE_DEPTHS = range(1, 11)


def _partial(request: HttpRequest, template: str, partial: str) -> str:
    """The named partial for an HTMX swap; the whole page otherwise (also
    when HTMX restores a page missing from its history cache)."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#{partial}"
    return template


def _org_traces(request: HttpRequest) -> QuerySet[ExecutionTrace]:
    """Traces of the organization being viewed (lists show one organization)."""
    if request.organization is None:
        return ExecutionTrace.objects.none()
    return ExecutionTrace.objects.filter(org=request.organization)


# --- Traces ----------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def trace_list(request: HttpRequest) -> HttpResponse:
    filters = parse_trace_filters(request.GET)
    traces = filter_traces(_org_traces(request), filters, timezone.now())
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
    return render(request, _partial(request, "web/trace_list.html", "trace-table"), context)


@require_GET
def failures(request: HttpRequest) -> HttpResponse:
    return render(request, "web/failures.html", {"groups": failure_groups(_org_traces(request))})


def failure_groups(traces: QuerySet[ExecutionTrace]) -> list[ExecutionTrace]:
    """Failed runs grouped by what failed, in one query: per group its latest
    failed trace, annotated with `failures` (the group's count) and
    `failed_step_name`. Newest failure first.

    A workflow fails with its step, so step traces are left out: their
    failure is counted under the workflow, by step (outputs.failed_step).
    """
    group = [F("trace_type"), F("what"), F("failed_step_name")]
    latest = (
        traces.filter(status=TraceStatus.FAILED)
        .exclude(trace_type=TraceType.STEP)
        .annotate(
            # Ad-hoc runs have no subject; their name tells them apart.
            what=Coalesce(NullIf("subject", Value("")), "name", output_field=TextField()),
            failed_step_name=KT("outputs__failed_step__name"),
            failed_step_position=KT("outputs__failed_step__position"),
            failures=Window(Count("id"), partition_by=group),
        )
        .order_by("trace_type", "what", "failed_step_name", "-started_at", "-id")
        .distinct("trace_type", "what", "failed_step_name")
    )
    return sorted(latest, key=lambda trace: (trace.started_at, trace.id), reverse=True)


@dataclass
class ChainLink:
    """One trace of an explanation's chain, with what to say about it."""

    trace_id: uuid.UUID
    trace_type: str
    name: str
    status: str
    sentence: str
    is_current: bool


@require_GET
def trace_detail(request: HttpRequest, trace_id: object) -> HttpResponse:
    trace = get_trace_or_404(request, trace_id)
    explanation = generate_explanation(trace.id)
    context = {
        "trace": trace,
        "explanation": explanation,
        "chain": _chain(explanation.steps, trace.id),
        "steps": workflow_steps(trace) if trace.trace_type == TraceType.WORKFLOW else [],
        "can_rerun": is_rerunnable(trace) and _can_run(request, trace.org_id),
        "depths": LINEAGE_DEPTHS,
        "default_depth": DEFAULT_DEPTH,
        "legend_shapes": [(kind.label, SHAPES[kind]) for kind in TraceType],
        "legend_colours": [(status.label, COLOURS[status][0]) for status in TraceStatus],
    }
    return render(request, "web/trace_detail.html", context)


def _chain(steps, current_id: uuid.UUID) -> list[ChainLink]:
    """The explanation's steps, root cause first. The explanation tells the
    root cause inside its child's sentence; on its own line it gets one."""
    return [
        ChainLink(
            step.trace_id,
            step.trace_type,
            step.name,
            step.status,
            step.sentence or _root_sentence(step.trace),
            step.trace_id == current_id,
        )
        for step in steps
    ]


def _root_sentence(trace: ExecutionTrace) -> str:
    outcome = describe(trace).outcome
    return f"{outcome[0].upper()}{outcome[1:]} {origin(trace)}."


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
    that did not run. The GIN index on dependencies serves `@>`."""
    steps = list(
        ExecutionTrace.objects.filter(
            org_id=workflow_trace.org_id,
            trace_type=TraceType.STEP,
            dependencies__contains=[workflow_trace.id],
        ).order_by("started_at", "id")
    )
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


# --- Definitions: metrics, alerts, workflows ---------------------------------


@dataclass
class RunRow:
    trace: ExecutionTrace
    why: str


def runs_with_reasons(org_id: int, subject: str, limit: int = RECENT_RUNS) -> list[RunRow]:
    """The latest runs of a definition, each with a one-line why.

    The why is told by the run's direct parents (“Because alert X fired …”),
    fetched in one query for all the runs: two queries whatever the count.
    """
    runs = list(
        ExecutionTrace.objects.filter(org_id=org_id, subject=subject).order_by(
            "-started_at", "-id"
        )[:limit]
    )
    parent_ids = {parent_id for run in runs for parent_id in run.dependencies}
    parents = (
        {p.id: p for p in ExecutionTrace.objects.filter(org_id=org_id, id__in=parent_ids)}
        if parent_ids
        else {}
    )
    return [RunRow(run, _why(run, parents)) for run in runs]


def _why(run: ExecutionTrace, parents: dict[uuid.UUID, ExecutionTrace]) -> str:
    if not run.dependencies:
        return f"Ran {origin(run)}."
    causes = [cause_of(run, parents[p]) for p in dict.fromkeys(run.dependencies) if p in parents]
    if not causes:
        return "Caused by a trace that no longer exists."
    return f"Because {join_phrases(causes)}."


def _last_runs(request: HttpRequest, definitions: list[Any]) -> dict[str, ExecutionTrace]:
    """The latest run of each definition, by subject, in one query."""
    if not definitions or request.organization is None:
        return {}
    subjects = [d.subject for d in definitions]
    return {t.subject: t for t in recent_traces_for_subjects(request.organization.pk, subjects, 1)}


def _org_definitions(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    if request.organization is None:
        return queryset.none()
    return queryset.filter(organization=request.organization)


def _with_last_runs(request: HttpRequest, definitions: QuerySet) -> list[tuple[Any, Any]]:
    definitions = list(definitions)
    last = _last_runs(request, definitions)
    return [(definition, last.get(definition.subject)) for definition in definitions]


def _can_run(request: HttpRequest, organization_id: int) -> bool:
    membership = membership_for(request, organization_id)
    return membership is not None and membership.can_run


@require_GET
def metric_list(request: HttpRequest) -> HttpResponse:
    metrics = _org_definitions(request, Metric.objects.annotate(alert_count=Count("alert_rules")))
    return render(request, "web/metric_list.html", {"rows": _with_last_runs(request, metrics)})


@require_GET
def metric_detail(request: HttpRequest, pk: int) -> HttpResponse:
    metric = get_definition_or_404(request, Metric.objects.all(), pk)
    context = {
        "metric": metric,
        "alerts": metric.alert_rules.all(),
        "values": metric.values.all()[:RECENT_RUNS],
        "runs": runs_with_reasons(metric.organization_id, metric.subject),
        "can_run": _can_run(request, metric.organization_id),
    }
    return render(request, "web/metric_detail.html", context)


@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = _org_definitions(
        request, AlertRule.objects.select_related("metric").prefetch_related("workflows")
    )
    return render(request, "web/alert_list.html", {"rows": _with_last_runs(request, alerts)})


@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_definition_or_404(request, AlertRule.objects.select_related("metric"), pk)
    context = {
        "alert": alert,
        "workflows": alert.workflows.all(),
        "runs": runs_with_reasons(alert.organization_id, alert.subject),
    }
    return render(request, "web/alert_detail.html", context)


@require_GET
def workflow_list(request: HttpRequest) -> HttpResponse:
    workflows = _org_definitions(
        request,
        Workflow.objects.annotate(
            step_count=Count("steps", distinct=True),
            alert_count=Count("alert_rules", distinct=True),
        ),
    )
    return render(request, "web/workflow_list.html", {"rows": _with_last_runs(request, workflows)})


@require_GET
def workflow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    workflow = get_definition_or_404(request, Workflow.objects.all(), pk)
    context = {
        "workflow": workflow,
        "steps": workflow.steps.all(),
        "alerts": workflow.alert_rules.select_related("metric"),
        "runs": runs_with_reasons(workflow.organization_id, workflow.subject),
        "can_run": _can_run(request, workflow.organization_id),
    }
    return render(request, "web/workflow_detail.html", context)


# --- Run now -------------------------------------------------------------------


def _runnable_or_403(request: HttpRequest, queryset: QuerySet, pk: int):
    """The definition (404 outside the user's organizations), if the user
    may start runs in its organization (403 for viewers)."""
    definition = get_definition_or_404(request, queryset, pk)
    if not _can_run(request, definition.organization_id):
        raise PermissionDenied("Only editors and owners can start runs.")
    return definition


def _show_trace(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    url = reverse("web:trace-detail", args=[trace_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@vary_on_headers("HX-Request")
def metric_run(request: HttpRequest, pk: int) -> HttpResponse:
    metric = _runnable_or_403(request, Metric.objects.all(), pk)
    run = run_metric_execution(metric, source=TraceSource.MANUAL)
    return _show_trace(request, run.trace_id)


@require_POST
@vary_on_headers("HX-Request")
def workflow_run(request: HttpRequest, pk: int) -> HttpResponse:
    workflow = _runnable_or_403(request, Workflow.objects.all(), pk)
    run = run_workflow(workflow, source=TraceSource.MANUAL)
    return _show_trace(request, run.trace_id)


@require_POST
@vary_on_headers("HX-Request")
def trace_rerun(request: HttpRequest, trace_id: object) -> HttpResponse:
    """A new manual run of a failed metric or workflow run, linked to it."""
    trace = get_trace_or_404(request, trace_id)
    if not _can_run(request, trace.org_id):
        raise PermissionDenied("Only editors and owners can start runs.")
    try:
        new_trace_id = rerun(trace)
    except CannotRerun as reason:
        messages.error(request, f"This run was not re-run: {reason}.")
        return _show_trace(request, trace.id)
    return _show_trace(request, new_trace_id)


# --- Organization switcher ------------------------------------------------------


@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Remember which of the user's organizations the lists show."""
    slug = request.POST.get("organization", "")
    if any(m.organization.slug == slug for m in request.memberships):
        request.session[SESSION_KEY] = slug
    else:
        messages.error(request, "You are not a member of that organization.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("web:trace-list")
    return redirect(next_url)

