"""A metric run and what its value sets off."""
from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from lineage.execution.runs import run_metric_execution
from lineage.observability.explain import generate_explanation
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, make_chain, make_metric, make_workflow, traced_db

pytestmark = traced_db

NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


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


# The seed's verification plan: a whole chain, then a failing step.


def rows_of_chain():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, trace_type, dependencies, status, error FROM execution_traces"
            " ORDER BY started_at, id"
        )
        return cursor.fetchall()


def test_a_scheduled_chain_writes_three_linked_traces_and_explains_them(org):
    metric, _, _ = make_chain(org, value=12840, threshold=10_000, steps=[])

    run_metric_execution(metric, source="schedule")

    (metric_id, t1, deps1, *_), (alert_id, t2, deps2, *_), (workflow_id, t3, deps3, *_) = rows_of_chain()
    assert (t1, t2, t3) == ("metric", "alert", "workflow")
    assert (deps1, deps2, deps3) == ([], [metric_id], [alert_id])
    text = generate_explanation(workflow_id).text
    assert text.startswith("Workflow “Notify on-call” succeeded. It ran because alert “Revenue spike” fired")
    assert "value 12,840 > threshold 10,000" in text
    assert "metric “Daily revenue” computed 12,840" in text


def test_a_failing_step_fails_the_workflow_and_the_explanation_names_it(org):
    metric, _, _ = make_chain(
        org, steps=[("webhook", "Call the pager", {"url": "http://127.0.0.1:9/", "timeout": 2})]
    )

    run_metric_execution(metric, source="schedule")

    workflow_id, _, _, status, error = next(r for r in rows_of_chain() if r[1] == "workflow")
    assert status == "failed"
    assert "step 1 “Call the pager” (webhook) failed" in error
    assert "Traceback" in error
    assert "failed at step 1 “Call the pager” (webhook)" in generate_explanation(workflow_id).text
