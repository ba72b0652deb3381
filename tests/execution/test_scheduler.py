from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from lineage.alerts.models import AlertRule
from lineage.execution.runs import run_metric_execution
from lineage.execution.scheduler import run_due
from lineage.metrics.models import Metric, MetricValue
from lineage.metrics.schedules import next_tick, previous_tick
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, make_chain, make_metric, make_workflow, traced_db

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


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 UNION ALL SELECT 2", "expected one numeric value, the query returned more than one row"),
        ("SELECT 1 WHERE false", "expected one numeric value, the query returned no rows"),
        ("SELECT 1, 2", "expected one numeric value, the query returned 2 columns"),
        ("SELECT 'abc'", "expected one numeric value, got str 'abc'"),
        ("SELECT NULL::int", "expected one numeric value, got NULL"),
        ("SELECT * FROM no_such_table", 'the query failed: relation "no_such_table" does not exist'),
        ("SELECT 1; SELECT 2", "exactly one SELECT statement; found 2"),
        ("DELETE FROM tenancy_organization", "must be a SELECT statement, not DELETE"),
        (
            "WITH gone AS (DELETE FROM tenancy_organization RETURNING 1) SELECT count(*) FROM gone",
            "in a read-only transaction",
        ),
    ],
)
def test_a_bad_query_leaves_a_failed_trace_that_says_what_came_back(org, sql, message):
    metric = make_metric(org, sql=sql)

    run = run_metric_execution(metric)

    trace = ExecutionTrace.objects.get(pk=run.trace_id)
    assert trace.status == "failed"
    assert message in trace.error_summary
    assert not MetricValue.objects.exists()
    assert org.__class__.objects.filter(pk=org.pk).exists()  # nothing was deleted


def test_a_slow_query_is_stopped_by_the_statement_timeout(org, settings):
    settings.LINEAGE_METRIC_TIMEOUT_SECONDS = 0.2
    run = run_metric_execution(make_metric(org, sql="SELECT 1 FROM pg_sleep(5)"))
    assert "canceling statement due to statement timeout" in run.error


def test_python_metric_calls_its_dotted_path(org):
    metric = make_metric(org, kind="python", sql="", python_path="tests.execution.sample_metrics.forty_two")
    assert run_metric_execution(metric).value == 42

    metric.python_path = "tests.execution.sample_metrics.not_a_number"
    assert "expected one numeric value, got str 'lots'" in run_metric_execution(metric).error

    metric.python_path = "tests.execution.sample_metrics.missing"
    assert "cannot import" in run_metric_execution(metric).error


def test_a_workflow_that_reruns_its_own_metric_fails_instead_of_looping(org):
    metric = make_metric(org, sql="SELECT 20000")
    workflow = make_workflow(org, steps=[("run_metric", "Recompute", {"metric": metric.name})])
    make_alert(metric, workflows=[workflow])

    run_metric_execution(metric)

    step = ExecutionTrace.objects.get(trace_type="step")
    assert step.status == "failed"
    assert "already being computed upstream" in step.error_summary
    assert ExecutionTrace.objects.filter(trace_type="metric").count() == 1


def test_run_metric_step_joins_the_lineage(org):
    upstream, _, _ = make_chain(org)
    refreshed = make_metric(org, name="Refunds", sql="SELECT 3", schedule="")
    workflow = make_workflow(org, name="Refresh", steps=[("run_metric", "Refresh refunds", {"metric": "Refunds"})])
    make_alert(upstream, name="Also", workflows=[workflow])

    run_metric_execution(upstream)

    step = ExecutionTrace.objects.get(name="Refresh refunds")
    child = ExecutionTrace.objects.get(name=refreshed.name)
    assert (child.dependencies, child.source, child.outputs) == ([step.id], "dependency", {"value": 3.0})
    assert step.outputs["metric_trace"] == str(child.id)


def test_cron_ticks_follow_the_configured_time_zone_across_dst(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks go back at 03:00 CEST on 2026-10-25: 02:30 happens twice.
    before = datetime(2026, 10, 24, 12, 0, tzinfo=berlin)
    tick = next_tick("30 2 * * *", before)
    assert tick == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_tick("0 9 * * *", tick) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert previous_tick("*/5 * * * *", NOW) == NOW
    assert previous_tick("*/5 * * * *", NOW + timedelta(minutes=4)) == NOW


def test_the_previous_tick_is_never_still_to_come():
    # Half a second before a tick, the tick has not happened yet: seed_demo
    # makes metrics due with it, and a tick in the future is not due.
    just_before = NOW - timedelta(milliseconds=500)
    assert previous_tick("*/5 * * * *", just_before) == NOW - timedelta(minutes=5)
    assert previous_tick("*/5 * * * *", NOW + timedelta(milliseconds=500)) == NOW
