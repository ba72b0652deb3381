from __future__ import annotations

from django.core import mail

from lineage.observability.explain import generate_explanation
from lineage.observability.models import ExecutionTrace
from lineage.workflows.engine import run_workflow
from tests.factories import make_workflow, traced_db

pytestmark = traced_db


def step_traces(run):
    return list(
        ExecutionTrace.objects.filter(dependencies__contains=[run.trace_id]).order_by("started_at")
    )


def test_steps_run_in_order_each_with_its_own_trace(org, webhook_receiver):
    workflow = make_workflow(
        org,
        steps=[
            ("log", "Note", {"message": "$alert fired at $value"}),
            ("webhook", "Tell the hook", {"url": webhook_receiver.url}),
            ("email", "Mail on-call", {"to": "oncall@acme.example", "subject": "$alert"}),
        ],
    )

    run = run_workflow(workflow, context={"alert": "Revenue spike", "value": 12840.0})

    assert run.succeeded
    traces = step_traces(run)
    assert [t.name for t in traces] == ["Note", "Tell the hook", "Mail on-call"]
    assert all(t.status == "succeeded" and t.source == "dependency" for t in traces)
    assert traces[0].outputs == {"message": "Revenue spike fired at 12,840"}
    [request] = webhook_receiver.requests
    assert request["json"]["alert"] == "Revenue spike"
    assert request["headers"]["Content-Type"] == "application/json"
    assert traces[1].outputs["status_code"] == 200
    [message] = mail.outbox
    assert (message.subject, message.to) == ("Revenue spike", ["oncall@acme.example"])
    workflow_trace = ExecutionTrace.objects.get(pk=run.trace_id)
    assert (workflow_trace.status, workflow_trace.outputs["steps_run"]) == ("succeeded", 3)


def failing_workflow(org, url, timeout=5):
    return make_workflow(
        org,
        name="Page ops",
        steps=[
            ("log", "First", {}),
            ("webhook", "Page the ops channel", {"url": url, "timeout": timeout}),
            ("log", "Never runs", {}),
        ],
    )


def assert_failed_at_step_two(run, cause):
    assert not run.succeeded
    workflow_trace = ExecutionTrace.objects.get(pk=run.trace_id)
    assert workflow_trace.status == "failed"
    assert workflow_trace.error_summary.startswith(
        "StepFailed: step 2 “Page the ops channel” (webhook) failed: "
    )
    assert cause in workflow_trace.error_summary
    assert workflow_trace.outputs["failed_step"] == {
        "position": 2,
        "name": "Page the ops channel",
        "kind": "webhook",
    }
    assert [(t.name, t.status) for t in step_traces(run)] == [
        ("First", "succeeded"),
        ("Page the ops channel", "failed"),
    ]
    assert "failed at step 2 “Page the ops channel”" in generate_explanation(run.trace_id).text


def test_non_2xx_answer_fails_the_step_and_stops_the_workflow(org, webhook_receiver):
    webhook_receiver.status = 503
    run = run_workflow(failing_workflow(org, webhook_receiver.url))
    assert_failed_at_step_two(run, "answered HTTP 503")


def test_a_closed_port_fails_the_step(org):
    run = run_workflow(failing_workflow(org, "http://127.0.0.1:9/nothing"))
    assert_failed_at_step_two(run, "Connection refused")


def test_a_webhook_that_times_out_fails_the_step(org, webhook_receiver):
    webhook_receiver.delay = 2
    run = run_workflow(failing_workflow(org, webhook_receiver.url, timeout=0.3))
    assert_failed_at_step_two(run, "timed out")


def test_bad_step_config_fails_with_a_clear_message(org):
    workflow = make_workflow(
        org, steps=[("webhook", "No url", {}), ("email", "No recipient", {})]
    )
    run = run_workflow(workflow)
    assert "the step's config has no “url”" in run.error
    workflow = make_workflow(org, name="bad scheme", steps=[("webhook", "ftp", {"url": "ftp://x"})])
    assert 'needs "url": an http:// or https:// address' in run_workflow(workflow).error


def test_templates_only_substitute_values(org):
    workflow = make_workflow(org, steps=[("log", "Note", {"message": "{{ 7*7 }} $value ${x}"})])
    run = run_workflow(workflow, context={"value": 3, "x": "__import__('os')"})
    assert step_traces(run)[0].outputs["message"] == "{{ 7*7 }} 3 __import__('os')"
