"""Computing metrics, on their schedule or on demand, and what follows.

    run_due(now)
      └─ run_metric_execution(metric)      trace: metric
           └─ evaluate_alerts(...)         trace: alert, parent = metric trace
                └─ run_workflow(...)       trace: workflow, parent = alert trace
"""
from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from lineage.alerts.evaluator import AlertOutcome, evaluate_alerts, prefetch_rules
from lineage.metrics.models import Metric, MetricKind, MetricValue, validate_single_select
from lineage.metrics.schedules import next_tick
from lineage.observability.models import TraceType
from lineage.observability.tracer import with_trace
from lineage.tenancy.models import Organization

logger = logging.getLogger("lineage.scheduler")

METRICS_DB = "metrics"

# Metrics being computed in this chain: a workflow step that re-runs a metric
# upstream of itself would otherwise loop forever.
_metrics_in_progress: ContextVar[tuple[int, ...]] = ContextVar("metrics_in_progress", default=())


class MetricError(Exception):
    """A metric could not produce one number; the message says what came back."""


@dataclass
class MetricRun:
    metric: Metric
    trace_id: uuid.UUID
    value: float | None = None
    error: str = ""
    alerts: list[AlertOutcome] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return not self.error


def run_metric_execution(
    metric: Metric,
    *,
    source: str | None = None,
    scheduled_for: datetime | None = None,
    parents: Iterable[uuid.UUID] | None = None,
) -> MetricRun:
    """Compute the metric inside a `metric` trace, store the value, then
    evaluate its alerts. A failure is recorded on the trace and returned.

    `parents` defaults to the current trace (a workflow step that re-runs a
    metric); pass it to link a run to a trace by hand (a re-run of a failure).
    """
    if metric.pk in _metrics_in_progress.get():
        raise MetricError(f"metric “{metric.name}” is already being computed upstream (a loop)")
    token = _metrics_in_progress.set((*_metrics_in_progress.get(), metric.pk))
    try:
        return _run(metric, source, scheduled_for, parents)
    finally:
        _metrics_in_progress.reset(token)


def _run(
    metric: Metric,
    source: str | None,
    scheduled_for: datetime | None,
    parents: Iterable[uuid.UUID] | None,
) -> MetricRun:
    inputs = {"kind": metric.kind, "schedule": metric.schedule or None}
    inputs["sql" if metric.kind == MetricKind.SQL else "python_path"] = (
        metric.sql if metric.kind == MetricKind.SQL else metric.python_path
    )
    if scheduled_for is not None:
        inputs["scheduled_for"] = scheduled_for
    tracing = with_trace(
        TraceType.METRIC,
        name=metric.name,
        subject=metric.subject,
        inputs=inputs,
        source=source,
        parents=parents,
        org=metric.organization_id,
    )
    try:
        with tracing as trace:
            value = compute_metric_value(metric)
            trace.outputs["value"] = value
            MetricValue.objects.create(metric=metric, value=value, trace_id=trace.id)
    except Exception as exc:
        logger.warning("metric %s failed: %s", metric.name, exc)
        return MetricRun(metric, tracing.handle.id, error=f"{type(exc).__name__}: {exc}")
    run = MetricRun(metric, trace.id, value=value)
    run.alerts = evaluate_alerts(metric, value, parents=[trace.id])
    return run


def compute_metric_value(metric: Metric) -> float:
    if metric.kind == MetricKind.SQL:
        return _as_number(_run_sql(metric.sql))
    try:
        function = import_string(metric.python_path)
    except ImportError as exc:
        raise MetricError(f"cannot import “{metric.python_path}”: {exc}") from None
    return _as_number(function())


def _run_sql(sql: str) -> object:
    validate_single_select(sql)
    timeout_ms = int(settings.LINEAGE_METRIC_TIMEOUT_SECONDS * 1000)
    connection = connections[METRICS_DB]
    # Read-only and time-boxed: a metric query can neither change data nor
    # hold a connection forever. Both settings are local to the transaction,
    # and set in one round trip (SET TRANSACTION READ ONLY and a second
    # statement cost one more wait on the server per metric run).
    with transaction.atomic(using=METRICS_DB), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('transaction_read_only', 'on', true),"
            " set_config('statement_timeout', %s, true)",
            [str(timeout_ms)],
        )
        try:
            cursor.execute(sql)
        except DatabaseError as exc:
            raise MetricError(f"the query failed: {str(exc).strip()}") from None
        if cursor.description is None:
            raise MetricError("the query returned no result set")
        columns = len(cursor.description)
        rows = cursor.fetchmany(2)
    if len(rows) != 1:
        count = "no rows" if not rows else "more than one row"
        raise MetricError(f"expected one numeric value, the query returned {count}")
    if columns != 1:
        raise MetricError(f"expected one numeric value, the query returned {columns} columns")
    return rows[0][0]


def _as_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        shown = "NULL" if value is None else f"{type(value).__name__} {str(value)[:80]!r}"
        raise MetricError(f"expected one numeric value, got {shown}")
    number = float(value)
    if not math.isfinite(number):
        raise MetricError(f"expected a finite number, got {number}")
    return number


# Metrics claimed per transaction. Claiming a small batch at a time lets
# schedulers started together share the work (each takes the next batch with
# SKIP LOCKED) instead of the first one claiming everything that is due.
CLAIM_BATCH = 10


def claim_due_metrics(
    now: datetime, limit: int | None = None, *, organization: Organization | None = None
) -> list[tuple[Metric, datetime]]:
    """Claim enabled metrics whose tick is due (at most `limit`, only
    `organization`'s when given), advancing their next tick.

    Rows are locked with SKIP LOCKED and advanced in one short transaction,
    so two schedulers started together never both claim a metric's tick; no
    lock is held while metrics run.
    """
    with transaction.atomic():
        due = (
            Metric.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(enabled=True, next_run_at__lte=now)
            .exclude(schedule="")
            .filter(**({"organization": organization} if organization else {}))
            .select_related("organization")
            .order_by("next_run_at", "pk")
        )
        due = list(due if limit is None else due[:limit])
        claims = [(metric, metric.next_run_at) for metric in due]
        for metric in due:
            metric.next_run_at = next_tick(metric.schedule, now)
        Metric.objects.bulk_update(due, ["next_run_at"])
    # After the claim's transaction: no lock is held while the rules load.
    prefetch_rules(due)
    return claims


def run_due(
    now: datetime | None = None, *, organization: Organization | None = None
) -> list[MetricRun]:
    """One scheduler pass: run every metric that is due at `now` (only
    `organization`'s when given), claiming them a batch at a time until none
    is left."""
    now = now or timezone.now()
    runs = []
    while claims := claim_due_metrics(now, CLAIM_BATCH, organization=organization):
        for metric, tick in claims:
            runs.append(run_metric_execution(metric, source="schedule", scheduled_for=tick))
    return runs
