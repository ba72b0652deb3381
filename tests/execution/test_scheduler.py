from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.test.utils import CaptureQueriesContext

from lineage.alerts.models import AlertRule
from lineage.execution.scheduler import run_due
from lineage.metrics.models import Metric, MetricValue
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, make_metric, make_workflow, traced_db

pytestmark = traced_db

NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


def due(metric, at=NOW):
    Metric.objects.filter(pk=metric.pk).update(next_run_at=at)


def test_due_metric_runs_once_and_its_next_tick_moves_on(org):
    metric = make_metric(org, sql="SELECT 5")
    due(metric)

    runs = run_due(NOW)

    assert [(r.metric.name, r.value) for r in runs] == [("Daily revenue", 5.0)]
    metric.refresh_from_db()
    assert metric.next_run_at == datetime(2026, 11, 28, 10, 10, tzinfo=UTC)
    trace = ExecutionTrace.objects.get(pk=runs[0].trace_id)
    assert (trace.source, trace.inputs["schedule"]) == ("schedule", "*/5 * * * *")
    assert MetricValue.objects.get().trace_id == trace.id
    assert run_due(NOW) == []  # the same tick is not run twice


def test_disabled_unscheduled_and_future_metrics_do_not_run(org):
    disabled = make_metric(org, name="disabled", enabled=False)
    unscheduled = make_metric(org, name="unscheduled", schedule="")
    future = make_metric(org, name="future")
    due(disabled)
    due(future, NOW + timedelta(minutes=1))
    assert unscheduled.next_run_at is None

    assert run_due(NOW) == []


def test_two_schedulers_started_together_run_each_metric_once(org):
    metrics = [make_metric(org, name=f"m{i}", sql=f"SELECT {i}") for i in range(12)]
    Metric.objects.update(next_run_at=NOW)
    start = threading.Barrier(2)
    results: list[list] = []

    def scheduler():
        start.wait()
        results.append(run_due(NOW))
        connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ran = [run.metric.name for result in results for run in result]
    assert sorted(ran) == sorted(m.name for m in metrics)
    assert ExecutionTrace.objects.filter(org=org, trace_type="metric").count() == 12


def test_rules_of_a_claimed_batch_load_once_not_per_metric(org):
    # Loading rules, workflows and steps per metric was a third of a
    # scheduled chain's time; a batch of ten loads them in three queries.
    for i in range(10):
        metric = make_metric(org, name=f"m{i}", sql=f"SELECT {i}")
        make_alert(metric, name=f"quiet {i}", threshold=100)
        make_alert(metric, name=f"loud {i}", threshold=-1,
                   workflows=[make_workflow(org, name=f"w{i}")])
        off = make_alert(metric, name=f"off {i}", threshold=-1)
        AlertRule.objects.filter(pk=off.pk).update(enabled=False)
    Metric.objects.update(next_run_at=NOW)

    with CaptureQueriesContext(connections["default"]) as queries:
        runs = run_due(NOW)

    assert len(runs) == 10
    assert all(
        [(a.rule.name, a.fired, len(a.workflow_runs)) for a in run.alerts]
        == [(f"loud {i}", True, 1), (f"quiet {i}", False, 0)]
        for i, run in enumerate(sorted(runs, key=lambda r: r.metric.name))
    )
    tables = [q["sql"].split(" FROM ")[1].split()[0] for q in queries if q["sql"].startswith("SELECT")]
    assert tables.count('"alerts_alertrule"') == 1
    assert tables.count('"workflows_step"') == 1
    assert ExecutionTrace.objects.filter(org=org, trace_type="step", status="succeeded").count() == 10
