"""Runs from chat: offered, then started when confirmed — a metric, a
workflow, or a failed run re-run and linked to it — and dry runs that
start nothing."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from lineage.assistant.answers import answer_confirmed_run, answer_question
from lineage.metrics.models import Metric, MetricValue
from lineage.observability.models import ExecutionTrace
from lineage.workflows.models import Step
from tests.factories import make_user, traced_db

pytestmark = traced_db


@pytest.fixture
def scheduled(demo):
    """The demo after one scheduler pass: Page ops failed at its webhook."""
    call_command("run_scheduler", stdout=StringIO())
    return demo


def ask(ctx, question):
    return answer_question(question, ctx)


def confirm(ctx, answer):
    proposal = answer.proposal
    return answer_confirmed_run(proposal.subject, ctx, proposal.rerun_of)


def test_a_workflow_is_run_from_chat_only_once_confirmed(demo, ctx, demo_user):
    ctx.user = demo_user
    offered = ask(ctx, "run notify on-call now")

    assert offered.text == "Run workflow “Notify on-call” now? It runs its 2 steps."
    assert offered.proposal.label == "Run Notify on-call now"
    assert not ExecutionTrace.objects.exists()

    done = confirm(ctx, offered)

    run = ExecutionTrace.objects.get(trace_type="workflow")
    assert (run.name, run.source, run.inputs["started_by"]) == ("Notify on-call", "chat", "demo")
    assert done.lines[0].text == (
        "I ran workflow “Notify on-call”. Workflow “Notify on-call” succeeded: ✓ step 1 “Log the "
        "spike”, ✓ step 2 “E-mail on-call”."
    )


def test_rerun_names_the_failed_run_and_links_the_new_one_to_it(scheduled, ctx, demo_user):
    ctx.user = demo_user
    failed = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")

    offered = ask(ctx, "rerun page ops")

    assert offered.intent == "rerun" and offered.proposal.rerun_of == str(failed.id)
    assert offered.lines[0].trace_id == failed.id
    assert "Re-run it? The new run of workflow “Page ops” is linked to this failed one" in offered.text
    Step.objects.filter(workflow__name="Page ops", position=1).update(kind="log", config={"message": "x"})

    done = confirm(ctx, offered)

    rerun = ExecutionTrace.objects.filter(trace_type="workflow", name="Page ops").exclude(pk=failed.pk).get()
    assert (rerun.status, rerun.source, rerun.dependencies) == ("succeeded", "chat", [failed.id])
    assert rerun.inputs["context"]["value"] == 7  # what the failed run would have sent
    assert done.lines[0].trace_id == rerun.id


def test_rerun_of_a_failed_step_reruns_its_workflow_run(scheduled, ctx):
    step = ExecutionTrace.objects.get(trace_type="step", status="failed")
    ctx.trace_id = step.id
    offered = ask(ctx, "re-run this")
    workflow_run = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    assert offered.proposal.rerun_of == str(workflow_run.id)


def test_running_from_chat_needs_the_editor_role(scheduled, ctx, demo):
    ctx.user = make_user("viewer", demo, role="viewer")
    ctx.can_run = False
    before = ExecutionTrace.objects.count()
    for question in ("run page ops", "rerun page ops", "run daily revenue"):
        answer = ask(ctx, question)
        assert answer.text == "Running a metric or a workflow needs the editor role in this organization."
        assert answer.proposal is None
    assert ExecutionTrace.objects.count() == before


def test_a_confirmed_rerun_of_a_trace_of_another_definition_runs_nothing(scheduled, ctx):
    failed = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    other = Metric.objects.get(name="Daily revenue")
    before = ExecutionTrace.objects.count()
    answer = answer_confirmed_run(other.subject, ctx, str(failed.id))
    assert answer.text == "That failed run is not one of this organization's any more."
    assert ExecutionTrace.objects.count() == before


def test_what_would_fire_now_computes_and_judges_but_records_nothing(scheduled, ctx):
    traces, values = ExecutionTrace.objects.count(), MetricValue.objects.count()

    answer = ask(ctx, "what would fire now?")

    # Every metric with an enabled alert ("Daily refunds" has none).
    assert [line.text for line in answer.lines] == [
        "Metric “Daily revenue” would be 12,840.",
        "Alert “Revenue spike” would fire (12,840 > 10,000, by 2,840) and start workflow "
        "“Notify on-call” (2 steps).",
        "Metric “Open orders” would be 7.",
        "Alert “Orders piling up” would fire (7 > 5, by 2) and start workflow “Page ops” (2 steps).",
        "Nothing was recorded: no trace, no stored value, no workflow started.",
    ]
    assert (ExecutionTrace.objects.count(), MetricValue.objects.count()) == (traces, values)


def test_a_dry_run_of_one_metric_says_why_an_alert_would_stay_quiet(scheduled, ctx):
    Metric.objects.filter(name="Open orders").update(sql="SELECT 3")
    assert [line.text for line in ask(ctx, "what would open orders be now").lines] == [
        "Metric “Open orders” would be 3.",
        "Alert “Orders piling up” would not fire (3 > 5 is false, short by 2).",
        "Nothing was recorded: no trace, no stored value, no workflow started.",
    ]
    Metric.objects.filter(name="Open orders").update(sql="SELECT 1/0")
    assert ask(ctx, "preview orders piling up").lines[0].text == (
        "Metric “Open orders” would fail: its query failed: division by zero, in “SELECT 1/0”."
    )
