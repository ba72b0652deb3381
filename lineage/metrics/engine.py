"""The metric engine: compute a metric's value inside a `metric` trace and
store it in the time series. What the value then sets off (alerts,
workflows) is the execution app's business."""
from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from lineage.metrics.models import Metric, MetricKind, MetricValue
from lineage.metrics.registry import registered_metric
from lineage.metrics.sql import MetricError, run_metric_sql
from lineage.metrics.tables import metric_tables_read
from lineage.observability.models import TraceType
from lineage.observability.tracer import with_trace

logger = logging.getLogger("lineage.metrics")


@dataclass
class MetricRun:
    metric: Metric
    trace_id: uuid.UUID
    value: float | None = None
    error: str = ""
    # The alerts evaluated on the value (AlertOutcome), when the run went on to them.
    alerts: list[Any] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return not self.error


def compute_metric(
    metric: Metric,
    *,
    source: str | None = None,
    scheduled_for: datetime | None = None,
    parents: Iterable[uuid.UUID] | None = None,
) -> MetricRun:
    """Compute the metric inside a `metric` trace and store the value. A
    failure is recorded on the trace and returned, never raised.

    `parents` defaults to the current trace (a workflow step that re-runs a
    metric); pass it to link a run to a trace by hand (a re-run of a failure).
    """
    tracing = with_trace(
        TraceType.METRIC,
        name=metric.name,
        subject=metric.subject,
        inputs=_inputs(metric, scheduled_for),
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
    return MetricRun(metric, trace.id, value=value)


def _inputs(metric: Metric, scheduled_for: datetime | None) -> dict[str, Any]:
    inputs = metric.snapshot()
    if metric.kind == MetricKind.SQL:
        # Recorded with the run, so pages, graphs and exporters name the
        # tables without parsing SQL (or importing metrics) themselves.
        inputs["reads"] = metric_tables_read(metric)
    if scheduled_for is not None:
        inputs["scheduled_for"] = scheduled_for
    return inputs


def compute_metric_value(metric: Metric) -> float:
    if metric.kind == MetricKind.SQL:
        return _as_number(run_metric_sql(metric.sql, metric.organization_id))
    try:
        function = registered_metric(metric.python_path)
    except ValidationError as exc:
        raise MetricError(" ".join(exc.messages)) from None
    return _as_number(function())


def _as_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        shown = "NULL" if value is None else f"{type(value).__name__} {str(value)[:80]!r}"
        raise MetricError(f"expected one numeric value, got {shown}")
    number = float(value)
    if not math.isfinite(number):
        raise MetricError(f"expected a finite number, got {number}")
    return number
