from __future__ import annotations

import pytest

from lineage.execution.rerun import rerun
from lineage.execution.runs import run_metric_execution
from lineage.observability.explain import generate_explanation
from lineage.observability.formatting import format_number, format_time
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import TraceNotFound, create_trace, update_trace
from lineage.observability.tracer import trace_scope
from tests.factories import make_alert, make_chain, make_metric, make_workflow, traced_db

pytestmark = traced_db


def latest(org, trace_type):
    return ExecutionTrace.objects.filter(org=org, trace_type=trace_type).first()


def test_workflow_explanation_describes_the_whole_chain(org):
    metric, _, _ = make_chain(org, value=12840, threshold=10_000)
    run_metric_execution(metric, source="schedule")
    workflow = latest(org, "workflow")

    explanation = generate_explanation(workflow.id)

    assert explanation.text.startswith(
        "Workflow “Notify on-call” ran because alert “Revenue spike” fired "
        "(value 12,840 > threshold 10,000, by 2,840). "
        "Alert “Revenue spike” was evaluated because metric “Daily revenue” computed 12,840 at "
    )
    assert explanation.text.endswith("on its schedule (*/5 * * * *).")
    assert [step.trace_type for step in explanation.steps] == ["metric", "alert", "workflow"]
    assert explanation.steps[-1].trace_id == workflow.id


def test_failed_workflow_names_the_failing_step_and_its_error(org):
    steps = [
        ("log", "Note it", {"message": "hi"}),
        ("webhook", "Page ops", {"url": "http://127.0.0.1:9/x", "timeout": 2}),
        ("log", "Never", {}),
    ]
    metric, _, _ = make_chain(org, steps=steps)
    run_metric_execution(metric)

    text = generate_explanation(latest(org, "workflow").id).text

    assert "Workflow “Notify on-call” failed at step 2 “Page ops” (webhook): POST " in text
    assert "Connection refused" in text


def test_a_rerun_of_a_failure_says_who_reran_it_and_how_the_run_before_failed(org):
    metric = make_metric(org, sql="SELECT 1/0")
    run_metric_execution(metric, source="schedule")
    failed = latest(org, "metric")
    metric.sql = "SELECT 12840"
    metric.save()
    with trace_scope(org=org, started_by="ada"):
        rerun(failed)

    text = generate_explanation(latest(org, "metric").id).text

    assert text.startswith(
        "Metric “Daily revenue” was computed because it was re-run by hand by ada after its run at "
    )
    assert "failed: MetricError: the query failed: division by zero. " in text
    failed_at = format_time(failed.completed_at)
    assert text.endswith(f"Metric “Daily revenue” ran at {failed_at} on its schedule (*/5 * * * *).")


def test_root_started_by_hand_or_from_chat_says_so(org):
    metric, _, _ = make_chain(org)
    with trace_scope(org=org, source="manual", started_by="ada"):
        run_metric_execution(metric)
    assert "when started by hand by ada" in generate_explanation(latest(org, "workflow").id).text

    run_metric_execution(metric, source="chat")
    assert "when asked to from chat" in generate_explanation(latest(org, "metric").id).text


def test_every_parent_of_a_fan_in_is_explained(org):
    metric, first_alert, workflow = make_chain(org)
    make_alert(metric, name="Revenue doubled", threshold=6_000, workflows=[])
    run_metric_execution(metric)
    alerts = list(ExecutionTrace.objects.filter(org=org, trace_type="alert"))
    joined = create_trace(
        org_id=org.pk,
        trace_type="workflow",
        name="Joined",
        source="dependency",
        dependencies=[a.id for a in alerts],
    )
    update_trace(joined, status="succeeded")

    text = generate_explanation(joined).text

    assert "alert “Revenue spike” fired" in text
    assert "alert “Revenue doubled” fired" in text
    assert " and alert " in text


def test_a_deleted_parent_is_said_not_crashed_on(org):
    metric, _, _ = make_chain(org)
    run_metric_execution(metric)
    ExecutionTrace.objects.filter(org=org, trace_type="alert").delete()

    text = generate_explanation(latest(org, "workflow").id).text

    assert "ran because of trace" in text and "which no longer exists" in text


def test_unknown_trace_is_not_found(org):
    with pytest.raises(TraceNotFound):
        generate_explanation("01a2b3c4-0000-7000-8000-000000000000")


@pytest.mark.parametrize("length", [5, 40])
def test_explanation_takes_at_most_two_queries(org, length, django_assert_max_num_queries):
    parent = None
    for i in range(length):
        parent = create_trace(
            org_id=org.pk,
            trace_type="workflow",
            name=f"w{i}",
            source="manual" if parent is None else "dependency",
            dependencies=[parent] if parent else [],
        )
    with django_assert_max_num_queries(2):
        explanation = generate_explanation(parent)
    assert len(explanation.steps) == length


@pytest.mark.parametrize(
    ("value", "text"), [(12840.0, "12,840"), (0.125, "0.125"), (-3, "-3"), ("n/a", "n/a")]
)
def test_numbers_read_like_numbers(value, text):
    assert format_number(value) == text


def test_a_quiet_alert_explains_why_it_did_not_fire(org):
    metric, _, _ = make_chain(org, value=9_000, threshold=10_000)
    make_workflow(org, name="unused")
    run_metric_execution(metric)
    alert = latest(org, "alert")
    assert alert.outputs["fired"] is False
    assert alert.outputs["margin"] == -1000
    assert not ExecutionTrace.objects.filter(org=org, trace_type="workflow").exists()
    assert generate_explanation(alert.id).text.endswith(
        "Alert “Revenue spike” did not fire (value 9,000 > threshold 10,000 is false, "
        "short by 1,000)."
    )
