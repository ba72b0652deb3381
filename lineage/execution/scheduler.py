"""What is due, and who runs it: each scheduler pass claims the metrics
whose cron tick has come and hands each claim to `run_metric_execution`.

    run_due(now)
      └─ claim_due_metrics(...)        a batch at a time, FOR UPDATE SKIP LOCKED
           └─ run_metric_execution     the metric and what its value sets off
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from lineage.alerts.evaluator import prefetch_rules
from lineage.execution.runs import run_metric_execution
from lineage.metrics.engine import MetricRun
from lineage.metrics.models import Metric
from lineage.metrics.schedules import next_tick
from lineage.observability.models import TraceSource
from lineage.tenancy.models import Organization

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
            runs.append(
                run_metric_execution(metric, source=TraceSource.SCHEDULE, scheduled_for=tick)
            )
    return runs
