"""The assistant's answers come from the traces."""
from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext, QuestionError
from lineage.execution.scheduler import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from tests.factories import make_chain, make_metric, make_org, traced_db

pytestmark = traced_db


def ask(ctx, question):
    ctx.now = timezone.now()  # as when a person asks: after the runs
    return answer_question(question, ctx)


def test_why_not_after_a_quiet_evaluation_gives_value_threshold_and_margin(org):
    metric, _, _ = make_chain(org, value=9_000, threshold=10_000)
    run_metric_execution(metric)
    ctx = AskContext(organization=org, org_ids=[org.pk])

    answer = ask(ctx, "why didn't Notify on-call run in the last hour?")

    assert "Workflow Notify on-call did not run in the last hour. It is started by alert Revenue spike." in answer.text
    assert (
        "Alert Revenue spike was evaluated 1 time(s) in the last hour and never fired. "
        "The latest evaluation, at "
    ) in answer.text
    assert "value 9,000 > threshold 10,000 was false, short by 1,000." in answer.text
    alert = ExecutionTrace.objects.get(trace_type="alert")
    assert answer.lines[-1].trace_id == alert.id


def test_why_not_after_a_failed_metric_names_its_error(org):
    metric, _, _ = make_chain(org)
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 1/0")
    metric.refresh_from_db()
    run_metric_execution(metric)
    ctx = AskContext(organization=org, org_ids=[org.pk])

    answer = ask(ctx, "why didnt notify on-call run today")

    assert "Alert Revenue spike was not evaluated today, because:" in answer.text
    assert "Metric Daily revenue ran 1 time(s) today and failed every time" in answer.text
    assert "division by zero" in answer.text
    assert answer.lines[-1].trace_id == ExecutionTrace.objects.get(trace_type="metric").id


def test_why_not_with_no_evaluation_in_the_window_is_a_missed_schedule(org):
    metric, _, _ = make_chain(org)
    run_metric_execution(metric)
    ExecutionTrace.objects.update(started_at=timezone.now() - timedelta(days=3))
    ctx = AskContext(organization=org, org_ids=[org.pk])

    answer = ask(ctx, "why didn't Notify on-call run today?")

    assert "Metric Daily revenue did not run today (its schedule is */5 * * * *) — a missed schedule" in answer.text
    assert "check that run_scheduler is in cron" in answer.text


def test_why_not_when_it_did_run_says_so_with_a_link(org):
    metric, _, _ = make_chain(org)
    run_metric_execution(metric)
    ctx = AskContext(organization=org, org_ids=[org.pk])

    answer = ask(ctx, "why didn't notify on-call run today")

    workflow = ExecutionTrace.objects.get(trace_type="workflow")
    assert "Workflow Notify on-call did run today" in answer.text
    assert answer.lines[0].trace_id == workflow.id


def test_disabled_definitions_are_the_reason(org):
    metric, alert, workflow = make_chain(org)
    workflow.enabled = False
    workflow.save()
    ctx = AskContext(organization=org, org_ids=[org.pk])
    assert "Workflow Notify on-call is disabled" in ask(ctx, "why didn't notify on-call run").text
    alert.enabled = False
    alert.save()
    assert "Alert Revenue spike is disabled" in ask(ctx, "why hasn't revenue spike fired today").text


def test_what_failed_today_lists_the_failed_page_ops_run(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())

    answer = ask(ctx, "what failed today?")

    page_ops = ExecutionTrace.objects.get(name="Page ops")
    assert answer.lines[0].text == "1 run failed today:"
    assert "Workflow “Page ops” failed at step 1 “Page the ops channel” (webhook)" in answer.lines[1].text
    assert answer.lines[1].trace_id == page_ops.id


def test_explaining_a_trace_by_id_prefix_suffix_or_elided_id(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    page_ops = ExecutionTrace.objects.get(name="Page ops")
    whole = str(page_ops.id)
    for reference in (whole, whole[-8:], f"{whole[:4]}…{whole[-3:]}"):
        answer = ask(ctx, f"why did trace {reference} run")
        assert "Workflow “Page ops” ran because alert “Orders piling up” fired" in answer.text, reference
        assert "failed at step 1 “Page the ops channel”" in answer.text


def test_the_trace_being_viewed_is_this(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    ctx.trace_id = ExecutionTrace.objects.get(name="Page ops").id
    answer = ask(ctx, "Why did this run?")
    assert "metric “Open orders” computed 7" in answer.text
    assert ask(ctx, "what did this trigger?").intent == "impact"


def test_impact_lists_descendants(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    answer = ask(ctx, "what did the last Daily revenue run trigger?")
    assert "triggered 4 run(s)" in answer.text
    assert "Alert “Revenue spike” fired (value 12,840 > threshold 10,000, by 2,840)" in answer.text


def test_chat_started_runs_have_source_chat_and_need_the_editor_role(demo, ctx, demo_user):
    ctx.user = demo_user
    answer = ask(ctx, "run daily revenue now")
    metric_trace = ExecutionTrace.objects.get(pk=answer.lines[0].trace_id)
    assert (metric_trace.source, metric_trace.inputs["started_by"]) == ("chat", "demo")
    assert "I ran Daily revenue: it computed 12,840." in answer.text

    ctx.can_run = False
    before = ExecutionTrace.objects.count()
    assert "needs the editor role" in ask(ctx, "run daily revenue now").text
    assert ExecutionTrace.objects.count() == before


def test_another_organizations_names_and_ids_are_not_found(demo, ctx):
    other = make_org("globex")
    secret = make_metric(other, name="Secret sales", sql="SELECT 1")
    run = run_metric_execution(secret)
    assert "Secret sales" not in ask(ctx, "why did secret sales run").text
    answer = ask(ctx, f"why did trace {run.trace_id} run")
    assert answer.text == f"I can't find trace {run.trace_id}."
    assert "I can't find a trace" in ask(ctx, f"explain {str(run.trace_id)[-8:]}").text


@pytest.mark.parametrize("question", ["", "   ", "x" * 501])
def test_empty_or_overlong_questions_are_refused(ctx, question):
    with pytest.raises(QuestionError):
        ask(ctx, question)


def test_questions_are_never_executed(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    for question in ["why did '; DROP TABLE execution_traces; -- run", "explain {{ 7*7 }} {% debug %}"]:
        answer = ask(ctx, question)
        assert "49" not in answer.text
    assert ExecutionTrace.objects.filter(name="Page ops").exists()  # the table is still there


def test_ask_command_prints_and_speaks_json(demo):
    call_command("run_scheduler", stdout=StringIO())
    out = StringIO()
    call_command("ask", "what failed today?", "--org", "acme", stdout=out)
    assert "Page ops" in out.getvalue()
    out = StringIO()
    call_command("ask", "what failed today?", "--org", "acme", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["intent"] == "list_failures" and data["args"] == {"window": "today"}
    with pytest.raises(CommandError, match="No organization"):
        call_command("ask", "help", "--org", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="Ask a question"):
        call_command("ask", "  ", "--org", "acme", stdout=StringIO())
