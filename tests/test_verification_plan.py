"""The seed's verification plan, as tests."""
from __future__ import annotations

from django.db import connection

from lineage.execution.runs import run_metric_execution
from lineage.observability.explain import generate_explanation
from tests.factories import make_chain, traced_db

pytestmark = traced_db


def rows_of_chain():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, trace_type, dependencies, status, error FROM execution_traces"
            " ORDER BY started_at, id"
        )
        return cursor.fetchall()


def test_1_2_3_a_full_flow_writes_three_linked_traces_explained_end_to_end(org):
    metric, _, _ = make_chain(org, value=12840, threshold=10_000, steps=[])

    run_metric_execution(metric, source="schedule")

    (metric_id, t1, deps1, *_), (alert_id, t2, deps2, *_), (workflow_id, t3, deps3, *_) = rows_of_chain()
    assert (t1, t2, t3) == ("metric", "alert", "workflow")
    assert (deps1, deps2, deps3) == ([], [metric_id], [alert_id])
    text = generate_explanation(workflow_id).text
    assert "Workflow “Notify on-call” ran because alert “Revenue spike” fired" in text
    assert "value 12,840 > threshold 10,000" in text
    assert "metric “Daily revenue” computed 12,840" in text


def test_4_a_failing_step_fails_the_workflow_and_the_explanation_names_it(org):
    metric, _, _ = make_chain(
        org, steps=[("webhook", "Call the pager", {"url": "http://127.0.0.1:9/", "timeout": 2})]
    )

    run_metric_execution(metric, source="schedule")

    workflow_id, _, _, status, error = next(r for r in rows_of_chain() if r[1] == "workflow")
    assert status == "failed"
    assert "step 1 “Call the pager” (webhook) failed" in error
    assert "Traceback" in error
    assert "failed at step 1 “Call the pager” (webhook)" in generate_explanation(workflow_id).text
