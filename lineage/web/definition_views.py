"""Metrics, alert rules and workflows: lists with each one's last run, pages
with recent runs and why each ran, and Run now."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from lineage.alerts.models import AlertRule
from lineage.execution.preview import Preview, preview_metric
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.metrics.tables import metric_tables_read
from lineage.observability.explain import why_each_ran
from lineage.observability.history import History, history_of
from lineage.observability.models import ExecutionTrace, TraceSource
from lineage.web.access import can_run, get_definition_or_404, org_definitions
from lineage.web.rendering import show_trace
from lineage.web.sparkline import sparkline_svg
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Workflow

# Definition pages show this many recent runs; each needs its parent for its
# "why", fetched in one query for all of them.
RECENT_RUNS = 10
# A metric's sparkline draws this many of its latest values.
SPARK_VALUES = 50


def _health(definition) -> History:
    """Success rate, failing since and the last runs' strip (trace_subject)."""
    return history_of(ExecutionTrace.objects.for_org(definition.organization_id), definition.subject)


@dataclass
class RunRow:
    trace: ExecutionTrace
    why: str


def runs_with_reasons(org_id: int, subject: str, limit: int = RECENT_RUNS) -> list[RunRow]:
    """The latest runs of a definition, each with a one-line why: two
    queries whatever the count."""
    runs = list(ExecutionTrace.objects.for_org(org_id).runs_of(subject)[:limit])
    whys = why_each_ran(runs)
    return [RunRow(run, whys[run.id]) for run in runs]


def _with_last_runs(request: HttpRequest, definitions: QuerySet) -> list[tuple[Any, Any]]:
    """Each definition with its latest run (or None), in one query for all."""
    definitions = list(definitions)
    last = {}
    if definitions:
        subjects = [d.subject for d in definitions]
        runs = ExecutionTrace.objects.latest_runs_of(request.organization.pk, subjects, 1)
        last = {run.subject: run for run in runs}
    return [(definition, last.get(definition.subject)) for definition in definitions]


@require_GET
def metric_list(request: HttpRequest) -> HttpResponse:
    metrics = org_definitions(request, Metric.objects.annotate(alert_count=Count("alert_rules")))
    return render(request, "web/metric_list.html", {"rows": _with_last_runs(request, metrics)})


@require_GET
def metric_detail(request: HttpRequest, pk: int) -> HttpResponse:
    metric = get_definition_or_404(request, Metric.objects.all(), pk)
    return _metric_page(request, metric)


def _metric_page(request: HttpRequest, metric: Metric, preview: Preview | None = None) -> HttpResponse:
    alerts = list(metric.alert_rules.all())
    values = list(metric.values.all()[:SPARK_VALUES])
    points = [(value.observed_at, value.value) for value in reversed(values)]
    context = {
        "metric": metric,
        "alerts": alerts,
        "reads": metric_tables_read(metric),
        "values": values[:RECENT_RUNS],
        "sparkline": sparkline_svg(points, [(alert.name, alert.threshold) for alert in alerts]),
        "history": _health(metric),
        "runs": runs_with_reasons(metric.organization_id, metric.subject),
        "can_run": can_run(request, metric.organization_id),
        "preview": preview,
        "overdue": metric.overdue_ticks(timezone.now()),
    }
    return render(request, "web/metric_detail.html", context)


@require_POST
@vary_on_headers("HX-Request")
def metric_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What a run would do now — the value, the alerts that would fire, the
    workflows they would start — recording nothing and starting nothing.
    Viewers may ask: it is read-only (the metric's SQL runs read-only and
    time-boxed, as in every run) and shows only what the page shows."""
    metric = get_definition_or_404(request, Metric.objects.all(), pk)
    preview = preview_metric(metric)
    if request.htmx:
        return render(request, "web/metric_detail.html#preview", {"metric": metric, "preview": preview})
    return _metric_page(request, metric, preview)


@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = org_definitions(
        request, AlertRule.objects.select_related("metric").prefetch_related("workflows")
    )
    return render(request, "web/alert_list.html", {"rows": _with_last_runs(request, alerts)})


@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_definition_or_404(request, AlertRule.objects.select_related("metric"), pk)
    context = {
        "alert": alert,
        "workflows": alert.workflows.all(),
        "history": _health(alert),
        "runs": runs_with_reasons(alert.organization_id, alert.subject),
    }
    return render(request, "web/alert_detail.html", context)


@require_GET
def workflow_list(request: HttpRequest) -> HttpResponse:
    workflows = org_definitions(
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
        "history": _health(workflow),
        "can_run": can_run(request, workflow.organization_id),
    }
    return render(request, "web/workflow_detail.html", context)


def _runnable_or_403(request: HttpRequest, queryset: QuerySet, pk: int):
    """The definition (404 outside the user's organizations), if the user
    may start runs in its organization (403 for viewers)."""
    definition = get_definition_or_404(request, queryset, pk)
    if not can_run(request, definition.organization_id):
        raise PermissionDenied("Only editors and owners can start runs.")
    return definition


@require_POST
@vary_on_headers("HX-Request")
def metric_run(request: HttpRequest, pk: int) -> HttpResponse:
    metric = _runnable_or_403(request, Metric.objects.all(), pk)
    run = run_metric_execution(metric, source=TraceSource.MANUAL)
    return show_trace(request, run.trace_id)


@require_POST
@vary_on_headers("HX-Request")
def workflow_run(request: HttpRequest, pk: int) -> HttpResponse:
    workflow = _runnable_or_403(request, Workflow.objects.all(), pk)
    run = run_workflow(workflow, source=TraceSource.MANUAL)
    return show_trace(request, run.trace_id)
