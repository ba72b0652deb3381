"""A metric run and everything its value sets off:

    run_metric_execution(metric)       trace: metric
      └─ evaluate_alerts(...)          trace: alert, parent = metric trace
           └─ run_workflow(...)        trace: workflow, parent = alert trace
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime

from lineage.alerts.evaluator import evaluate_alerts, rules_for
from lineage.metrics.engine import MetricRun, compute_metric
from lineage.metrics.models import Metric
from lineage.metrics.sql import MetricError
from lineage.observability.store import add_outputs

# Metrics being computed in this chain: a workflow step that re-runs a metric
# upstream of itself would otherwise loop forever.
_metrics_in_progress: ContextVar[tuple[int, ...]] = ContextVar("metrics_in_progress", default=())


def run_metric_execution(
    metric: Metric,
    *,
    source: str | None = None,
    scheduled_for: datetime | None = None,
    parents: Iterable[uuid.UUID] | None = None,
) -> MetricRun:
    """Compute the metric (see `compute_metric`), then evaluate its alerts on
    the new value, which start their workflows. A failure is recorded on its
    trace and returned."""
    if metric.pk in _metrics_in_progress.get():
        raise MetricError(f"metric “{metric.name}” is already being computed upstream (a loop)")
    token = _metrics_in_progress.set((*_metrics_in_progress.get(), metric.pk))
    try:
        run = compute_metric(metric, source=source, scheduled_for=scheduled_for, parents=parents)
        if run.succeeded:
            run.alerts = evaluate_alerts(metric, run.value, parents=[run.trace_id])
        else:
            # The consequence, recorded as it happened: explanations say
            # which alerts the failure kept from being evaluated.
            skipped = [rule.name for rule in rules_for(metric)]
            if skipped:
                add_outputs(run.trace_id, {"alerts_not_evaluated": skipped})
        return run
    finally:
        _metrics_in_progress.reset(token)
