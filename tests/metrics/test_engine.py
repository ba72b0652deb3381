"""Computing a metric: one number from SQL or a registered callable, or a failed trace that says why."""
from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import MetricValue
from lineage.observability.models import ExecutionTrace
from tests.factories import make_metric, traced_db

pytestmark = traced_db

NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 UNION ALL SELECT 2", "expected one numeric value, the query returned more than one row"),
        # Cancelled after the second row, never read into memory.
        ("SELECT generate_series(1, 100000000)", "the query returned more than one row"),
        ("SELECT 1 WHERE false", "expected one numeric value, the query returned no rows"),
        ("SELECT 1, 2", "expected one numeric value, the query returned 2 columns"),
        ("SELECT 'abc'", "expected one numeric value, got str 'abc'"),
        ("SELECT NULL::int", "expected one numeric value, got NULL"),
        ("SELECT * FROM no_such_table", 'the query failed: relation "no_such_table" does not exist'),
        ("SELECT 1; SELECT 2", "exactly one SELECT statement; found 2"),
        ("DELETE FROM tenancy_organization", "must be a SELECT statement, not DELETE"),
        (
            "WITH gone AS (DELETE FROM tenancy_organization RETURNING 1) SELECT count(*) FROM gone",
            "it cannot contain DELETE",
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


def test_python_metric_calls_the_callable_registered_under_its_name(org):
    metric = make_metric(org, kind="python", sql="", python_path="tests.metrics.sample_metrics.forty_two")
    assert run_metric_execution(metric).value == 42

    metric.python_path = "tests.metrics.sample_metrics.not_a_number"
    assert "expected one numeric value, got str 'lots'" in run_metric_execution(metric).error

    metric.python_path = "tests.metrics.sample_metrics.missing"
    assert "is not a registered Python metric" in run_metric_execution(metric).error


@pytest.mark.parametrize("path", ["os.abort", "os.system", "antigravity.geohash", "sys.exit"])
def test_a_python_metric_naming_any_importable_callable_is_refused_not_run(org, path):
    """os.abort as a metric once killed the process that ran it: this test
    process would not survive a call."""
    metric = make_metric(org, kind="python", sql="", python_path=path)

    run = run_metric_execution(metric)

    assert f"“{path}” is not a registered Python metric" in run.error
    assert "registered: " in run.error and "tests.metrics.sample_metrics.forty_two" in run.error
    assert ExecutionTrace.objects.get(pk=run.trace_id).status == "failed"
    assert "antigravity" not in sys.modules  # never imported, let alone called
