"""The assistant's answers come from the traces."""
from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lineage.assistant.answers import answer_plan, answer_question
from lineage.assistant.intents import SPECS
from lineage.assistant.planner import AskContext, Plan, QuestionError
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from tests.factories import make_metric, make_org, make_trace, traced_db

pytestmark = traced_db


def ask(ctx, question):
    ctx.now = timezone.now()  # as when a person asks: after the runs
    return answer_question(question, ctx)


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
    for reference in (whole, whole[:23], whole[-8:], whole[-12:].upper(), f"{whole[:4]}…{whole[-3:]}"):
        answer = ask(ctx, f"why did trace {reference} run")
        assert answer.text.startswith("Workflow “Page ops” failed at step 1 “Page the ops channel”"), reference
        assert "It ran because alert “Orders piling up” fired" in answer.text
    # Ids start with their time: the first 8 digits are shared by a minute's traces.
    assert ask(ctx, f"explain {whole[:8]}").text == f"Several traces match “{whole[:8]}”; give more of the id."
    assert "longer than a trace id" in ask(ctx, "explain 0123456789abcdef0123456789abcdef0123").text


def test_the_trace_being_viewed_is_this(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    ctx.trace_id = ExecutionTrace.objects.get(name="Page ops").id
    answer = ask(ctx, "Why did this run?")
    assert "metric “Open orders” computed 7" in answer.text
    assert ask(ctx, "what did this trigger?").intent == "impact"


def test_impact_lists_descendants(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    answer = ask(ctx, "what did the last Daily revenue run trigger?")
    assert "triggered 4 runs:" in answer.text
    assert "Alert “Revenue spike” fired (value 12,840 > threshold 10,000, by 2,840)" in answer.text


def test_asking_to_run_a_metric_only_offers_the_run(demo, ctx, demo_user):
    ctx.user = demo_user
    answer = ask(ctx, "run daily revenue now")

    assert not ExecutionTrace.objects.exists()
    assert answer.proposal.label == "Run Daily revenue now"
    assert answer.proposal.subject == Metric.objects.get(name="Daily revenue").subject


def test_chat_started_runs_have_source_chat_and_need_the_editor_role(demo, ctx, demo_user):
    ctx.user = demo_user
    ctx.confirmed = True
    answer = ask(ctx, "run daily revenue now")
    metric_trace = ExecutionTrace.objects.get(pk=answer.lines[0].trace_id)
    assert (metric_trace.source, metric_trace.inputs["started_by"]) == ("chat", "demo")
    assert "I ran metric “Daily revenue”: it computed 12,840." in answer.text

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
    assert answer.text == f"No trace with id {run.trace_id}."
    assert "No trace id matches" in ask(ctx, f"explain {str(run.trace_id)[-8:]}").text


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
    assert data["intent"] == "list_failures" and data["args"] == {"window": "today", "outcome": "failed"}
    with pytest.raises(CommandError, match="No organization"):
        call_command("ask", "help", "--org", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="Ask a question"):
        call_command("ask", "  ", "--org", "acme", stdout=StringIO())


def test_a_metric_run_can_be_rerun_by_its_trace_id(demo, ctx, demo_user):
    ctx.user = demo_user
    ctx.confirmed = True
    call_command("run_scheduler", stdout=StringIO())
    earlier = ExecutionTrace.objects.get(name="Daily revenue")

    answer = ask(ctx, f"rerun {str(earlier.id)[-8:]}")

    # It succeeded, so re-running it is a new run (a failed one would be re-run, linked).
    assert answer.intent == "run" and answer.args["name"] == "Daily revenue"
    rerun = ExecutionTrace.objects.get(pk=answer.lines[0].trace_id)
    assert (rerun.name, rerun.source) == ("Daily revenue", "chat") and rerun.id != earlier.id


def test_only_metrics_and_workflows_are_run_from_chat(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    before = ExecutionTrace.objects.count()
    alert = ExecutionTrace.objects.get(name="Orders piling up")
    assert "Only metrics and workflows can be run from chat" in ask(ctx, f"run {alert.id} again").text
    ctx.trace_id = alert.id
    assert "Only metrics and workflows can be run from chat" in ask(ctx, "rerun this").text
    assert ExecutionTrace.objects.count() == before


def test_follow_ups_on_a_trace_page_are_about_that_trace(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    ctx.trace_id = ExecutionTrace.objects.get(name="Page ops").id

    answer = ask(ctx, "why did the webhook fail")

    assert answer.args["trace_id"] == str(ctx.trace_id)
    assert "failed at step 1 “Page the ops channel” (webhook)" in answer.text
    # Running something is never guessed from the page: an unknown name is asked about.
    assert ask(ctx, "run quarterly bonus").text == "I don't know “quarterly bonus” here."


def test_a_bare_name_explains_its_latest_run(demo, ctx):
    call_command("run_scheduler", stdout=StringIO())
    answer = ask(ctx, "page ops")
    assert answer.intent == "explain_trace"
    assert answer.lines[0].trace_id == ExecutionTrace.objects.get(name="Page ops").id


@pytest.mark.parametrize(
    "question",
    [
        "why", "why not", "run", "impact", "what did it trigger", "rerun this", "why didn't this run",
        "failures in the last 99999999999 days", "what failed in the last 999999 hours",
        "at 25:99 what failed", "between 23 and 1", "why did 000000 run", "explain ffffff-",
        "why did ' OR 1=1 -- run", "<script>alert(1)</script>", "%s %(name)s {0}", "\x00\x01",
        "why didn't step run", "run the step", "what did the 99:99 run trigger",
    ],
)  # fmt: skip
def test_odd_questions_get_an_answer_not_an_error(demo, ctx, question):
    answer = ask(ctx, question)
    assert answer.lines and all(line.text for line in answer.lines)


@pytest.mark.parametrize(
    "intent", ["explain_trace", "why_not_run", "impact", "run_metric", "list_failures", "help"]
)
def test_a_plan_missing_its_arguments_asks_for_them(ctx, intent):
    answer = answer_plan(Plan(intent), ctx)

    assert answer.lines
    if intent in ("explain_trace", "why_not_run", "impact", "run_metric"):
        assert answer.lines[0].text.startswith("Which ")


def test_listing_failures_is_one_query_however_many_failed(org, django_assert_num_queries):
    for number in range(20):
        make_trace(org, f"Job {number}", trace_type="workflow", status="failed", error="Boom")
    ctx = AskContext(organization=org, org_ids=[org.pk])

    with django_assert_num_queries(1):
        answer = answer_question("what failed in the last hour?", ctx)

    assert answer.lines[0].text == "More than 15 runs failed in the last hour; the latest:"
    assert [line.text.split(" failed")[0] for line in answer.lines[1:4]] == [
        "Workflow “Job 19”", "Workflow “Job 18”", "Workflow “Job 17”",
    ]
    assert len(answer.lines) == 16


def test_a_short_id_means_the_recent_trace_when_an_old_one_shares_it(org):
    old = make_trace(org, "Old run", trace_type="workflow", started_at=timezone.now() - timedelta(days=30))
    new = make_trace(org, "New run", trace_type="workflow")
    tail = str(new.id)[-8:]
    ExecutionTrace.objects.filter(pk=old.pk).update(id=f"{str(old.id)[:-8]}{tail}")
    ctx = AskContext(organization=org, org_ids=[org.pk])

    assert "New run" in ask(ctx, f"why did {tail} run").text
    assert "Old run" in ask(ctx, f"why did {str(old.id)[-12:-8]}{tail} run").text


def test_a_run_asked_for_at_the_terminal_is_a_chat_run_by_the_os_user(demo):
    out = StringIO()
    call_command("ask", "run daily revenue now", "--org", "acme", stdout=out)
    trace = ExecutionTrace.objects.get(name="Daily revenue")
    assert (trace.source, trace.inputs["started_by"].endswith("(terminal)")) == ("chat", True)
    assert "I ran metric “Daily revenue”: it computed 12,840. [metric Daily revenue at " in out.getvalue()
    assert str(trace.id) in out.getvalue()


def test_a_short_id_of_hex_letters_only_is_still_an_id(org):
    # About one id in 2,600 ends in eight letters ((6/16)^8); the planner once took those for a name.
    trace = make_trace(org, "Letters run", trace_type="workflow")
    lettered = f"{str(trace.id)[:-8]}eaeeeedd"
    ExecutionTrace.objects.filter(pk=trace.pk).update(id=lettered)
    ctx = AskContext(organization=org, org_ids=[org.pk])

    assert "Letters run" in ask(ctx, "explain eaeeeedd").text
    assert "Letters run" in ask(ctx, "why did EAEEEEDD run").text
    assert ask(ctx, "explain deadbeef").text == "No trace id matches “deadbeef”."


def test_help_lists_examples_and_the_time_phrases_understood(org):
    ctx = AskContext(organization=org, org_ids=[org.pk])
    answer = ask(ctx, "what can you do")
    assert answer.intent == "help"
    assert "“What failed today?” — what failed" in answer.text
    assert "“How many times did Page ops fail this week?” — how often" in answer.text
    assert "“What would fire now?” — what a run would do now, recording nothing" in answer.text
    # Every intent is listed, with an example.
    assert len(answer.lines) == len(SPECS) + 1
    assert "on Saturday, last Tuesday, 3 days ago, 2 hours ago, last week" in answer.text


def test_a_date_is_a_window_not_a_trace_id(org):
    yesterday = timezone.localtime() - timedelta(days=1)
    make_trace(org, "Broke", trace_type="workflow", status="failed", started_at=yesterday)
    ctx = AskContext(organization=org, org_ids=[org.pk])

    answer = ask(ctx, f"what failed on {yesterday:%Y-%m-%d}")

    assert answer.lines[0].text.startswith(f"1 run failed on {yesterday:%b} {yesterday.day}")
    assert "Broke" in answer.text
