from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lineage.execution.rerun import rerun
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.explain import generate_explanation
from lineage.observability.formatting import format_number, format_time
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import TraceNotFound, create_trace, update_trace
from lineage.observability.tracer import trace_scope, with_trace
from tests.factories import (
    make_alert,
    make_chain,
    make_metric,
    make_workflow,
    scheduler_pass,
    traced_db,
)

pytestmark = traced_db


def latest(org, trace_type):
    return ExecutionTrace.objects.filter(org=org, trace_type=trace_type).first()


def test_an_explanation_leads_with_the_outcome_then_the_chain_to_its_tick(org):
    metric, _, _ = make_chain(org, value=12840, threshold=10_000)
    Metric.objects.filter(pk=metric.pk).update(schedule="0 9 * * *")
    tick = datetime(2026, 11, 26, 9, tzinfo=UTC)
    scheduler_pass(org, tick, late=timedelta(hours=2, minutes=25))

    explanation = generate_explanation(latest(org, "workflow").id)

    assert explanation.text == (
        "Workflow “Notify on-call” succeeded: ✓ step 1 “Log it”. It ran because alert “Revenue "
        "spike” fired (value 12,840 > threshold 10,000, by 2,840). Alert “Revenue spike” was "
        "evaluated because metric “Daily revenue” computed 12,840 at the "
        f"{format_time(tick)} tick of its schedule (0 9 * * *), which ran 2 h 25 min late at "
        f"{format_time(tick + timedelta(hours=2, minutes=25))}."
    )
    assert [step.trace_type for step in explanation.steps] == ["metric", "alert", "workflow"]
    assert explanation.steps[0].line.endswith("which ran 2 h 25 min late at " + format_time(tick + timedelta(hours=2, minutes=25)) + ".")


@pytest.fixture
def nightly_export(org):
    """Dump → Upload (a webhook nothing listens to) → Notify, run by its alert."""
    steps = [
        ("log", "Dump", {"message": "dumped"}),
        ("webhook", "Upload", {"url": "http://127.0.0.1:9/upload", "timeout": 2}),
        ("log", "Notify", {}),
    ]
    metric = make_metric(org, name="Export size")
    workflow = make_workflow(org, name="Nightly export", steps=steps)
    make_alert(metric, name="Export due", threshold=1, workflows=[workflow])
    run_metric_execution(metric)
    return workflow


def test_a_failed_workflow_says_which_steps_succeeded_and_which_did_not_run(org, nightly_export):
    text = generate_explanation(latest(org, "workflow").id).text

    assert text.startswith(
        "Workflow “Nightly export” failed at step 2 “Upload” (webhook): POST "
        "http://127.0.0.1:9/upload failed: [Errno 111] Connection refused; step 1 “Dump” had "
        "succeeded and step 3 “Notify” did not run. It ran because alert “Export due” fired"
    )


def test_a_step_is_explained_within_its_run_never_by_itself(org, nightly_export):
    upload = ExecutionTrace.objects.get(org=org, trace_type="step", name="Upload")
    run = latest(org, "workflow")

    text = generate_explanation(upload.id).text

    assert text.startswith(
        f"Step 2 “Upload” of the {format_time(run.started_at)} “Nightly export” run failed: POST "
        "http://127.0.0.1:9/upload failed: [Errno 111] Connection refused (✓ step 1 “Dump”, ✗ "
        "step 2 “Upload”, — step 3 “Notify” not run). Workflow “Nightly export” ran because "
        "alert “Export due” fired"
    )
    assert "because workflow" not in text


def test_a_rerun_that_failed_the_same_way_says_the_error_once(org):
    metric = make_metric(org, sql="SELECT 1/0")
    run_metric_execution(metric, source="schedule")
    failed = latest(org, "metric")
    with trace_scope(org=org, started_by="ada"):
        rerun(failed)

    text = generate_explanation(latest(org, "metric").id).text

    assert text == (
        "Metric “Daily revenue” failed: its query failed: division by zero, in “SELECT 1/0”. It "
        f"was re-run by hand by ada after its run at {format_time(failed.started_at)} failed the "
        f"same way. Metric “Daily revenue” ran at {format_time(failed.started_at)} on its schedule "
        "(*/5 * * * *)."
    )


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
        "Metric “Daily revenue” computed 12,840. It was re-run by hand by ada after its run at "
        f"{format_time(failed.started_at)} failed: its query failed: division by zero, in "
        "“SELECT 1/0”."
    )


def test_who_started_a_run_and_where_reads_naturally(org):
    metric, _, _ = make_chain(org)
    with trace_scope(org=org, source="manual", started_by="ada"):
        run_metric_execution(metric)
    assert "when ada started it by hand." in generate_explanation(latest(org, "workflow").id).text

    with trace_scope(org=org, source="chat", started_by="root (terminal)"):
        run_metric_execution(metric, source="chat")
    assert "when root asked for it at the terminal." in generate_explanation(latest(org, "metric").id).text

    with trace_scope(org=org, source="chat", started_by="ada"):
        run_metric_execution(metric, source="chat")
    assert "when ada asked for it in chat." in generate_explanation(latest(org, "metric").id).text


def test_a_running_trace_has_been_running_since_it_started(org):
    with trace_scope(org=org), with_trace("workflow", name="Long export") as handle:
        text = generate_explanation(handle.id).text
    started = ExecutionTrace.objects.get(pk=handle.id).started_at
    assert text == f"Workflow “Long export” has been running since {format_time(started)}. It began when started by hand."
    assert "ran at" not in text


def test_a_failed_metric_shows_its_query_error_and_what_it_kept_from_running(org):
    metric = make_metric(org, name="Ratio", sql="SELECT count(*) / 0 FROM   pg_class")
    make_alert(metric, name="Ratio alarm", threshold=1)
    run_metric_execution(metric, source="schedule")

    text = generate_explanation(latest(org, "metric").id).text

    assert text.startswith(
        "Metric “Ratio” failed: its query failed: division by zero, in “SELECT count(*) / 0 FROM "
        "pg_class” — so alert “Ratio alarm” was never evaluated. It ran at "
    )


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
    assert generate_explanation(alert.id).text.startswith(
        "Alert “Revenue spike” did not fire (value 9,000 > threshold 10,000 is false, "
        "short by 1,000). It was evaluated because metric “Daily revenue” computed 9,000 at "
    )
