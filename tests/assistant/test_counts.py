"""Questions about a definition's runs taken together — how many, how
healthy, when last, what is running, which alerts fired — over a history
made by the scheduler at chosen times."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext
from lineage.metrics.models import Metric
from lineage.observability.formatting import format_time
from lineage.observability.models import ExecutionTrace
from lineage.observability.tracer import trace_scope, with_trace
from lineage.workflows.models import Step
from tests.factories import make_alert, make_metric, make_workflow, scheduler_pass, traced_db

pytestmark = traced_db

# Friday 27 November 2026, 18:00 UTC; "this week" began on Monday the 23rd.
NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)


def day(number: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, number, hour, tzinfo=UTC)


@pytest.fixture
def ctx(org):
    return AskContext(organization=org, org_ids=[org.pk], now=NOW)


@pytest.fixture
def paging(org, webhook_receiver):
    """Open orders (7) → Orders piling up (> 5) → Page ops, whose first step
    posts to a real receiver: failing, then (from Thursday) answering."""
    metric = make_metric(org, name="Open orders", sql="SELECT 7", schedule="0 9 * * *")
    Metric.objects.filter(pk=metric.pk).update(created_at=day(1))
    steps = [("webhook", "Page the ops channel", {"url": "http://127.0.0.1:9/page", "timeout": 2}),
             ("log", "Log the page", {"message": "paged"})]  # fmt: skip
    workflow = make_workflow(org, name="Page ops", steps=steps)
    make_alert(metric, name="Orders piling up", threshold=5, workflows=[workflow])
    make_metric(org, name="Quiet", sql="SELECT 1", schedule="0 9 * * *")
    return workflow


def said(context, question: str) -> list[str]:
    return [line.text for line in answer_question(question, context).lines]


def fail_four_times_this_week(org) -> None:
    for number in (23, 24, 25, 26):
        scheduler_pass(org, day(number))


def test_a_count_names_the_thing_and_the_pattern_of_its_failures(org, ctx, paging):
    scheduler_pass(org, day(20))  # last week's failure is not counted
    fail_four_times_this_week(org)

    [answer] = said(ctx, "How many times did Page ops fail this week?")

    assert answer == (
        "Workflow “Page ops” failed 4 times this week, always at step 1 “Page the ops channel” "
        "(webhook): POST http://127.0.0.1:9/page failed: [Errno 111] Connection refused."
    )
    cited = answer_question("how many times did page ops fail this week", ctx).lines[0].trace_id
    assert ExecutionTrace.objects.get(pk=cited).started_at.date() == day(26).date()


def test_failures_that_differ_are_counted_by_where_they_failed(org, ctx, paging, webhook_receiver):
    fail_four_times_this_week(org)
    webhook_receiver.status = 200
    Step.objects.filter(workflow=paging, position=1).update(config={"url": webhook_receiver.url})
    Step.objects.filter(workflow=paging, position=2).update(kind="webhook", config={"url": "http://127.0.0.1:9/log"})
    scheduler_pass(org, day(27))

    [answer] = said(ctx, "how many times did page ops fail this week")

    assert answer.startswith(
        "Workflow “Page ops” failed 5 times this week, 4 times at step 1 “Page the ops channel” "
        "(webhook): POST http://127.0.0.1:9/page failed: [Errno 111] Connection refused and once "
        "at step 2 “Log the page” (webhook): POST http://127.0.0.1:9/log failed:"
    )


def test_counts_of_runs_and_firings(org, ctx, paging):
    fail_four_times_this_week(org)
    assert said(ctx, "how many times did open orders run this week") == [
        "Metric “Open orders” ran 4 times this week: 4 succeeded and 0 failed."
    ]
    assert said(ctx, "how often did orders piling up fire this week") == [
        "Alert “Orders piling up” fired 4 times this week, out of 4 evaluations."
    ]
    Metric.objects.filter(name="Open orders").update(sql="SELECT 1/0")
    scheduler_pass(org, day(27))
    assert said(ctx, "how many times did open orders fail this week") == [
        "Metric “Open orders” failed once this week out of 5 runs, with: the query failed: "
        "division by zero."
    ]
    assert said(ctx, "how many workflows failed this week") == [
        "4 runs failed this week, always workflow “Page ops” at step 1 “Page the ops channel” "
        "(webhook): POST http://127.0.0.1:9/page failed: [Errno 111] Connection refused."
    ]


def test_a_named_thing_is_healthy_or_broken_from_its_recent_runs(org, ctx, paging, webhook_receiver):
    fail_four_times_this_week(org)
    latest = ExecutionTrace.objects.filter(name="Page ops").first()

    assert said(ctx, "is Page ops broken?") == [
        f"Workflow “Page ops” is broken: its last 4 runs failed, since {format_time(day(23))}; the "
        f"latest, at {format_time(latest.started_at)}, failed at step 1 “Page the ops channel” "
        "(webhook): POST http://127.0.0.1:9/page failed: [Errno 111] Connection refused; step 2 "
        "“Log the page” did not run.",
        "It has never succeeded.",
    ]
    assert said(ctx, "is open orders healthy") == ["Metric “Open orders” is healthy: its last 4 runs succeeded."]

    Step.objects.filter(workflow=paging, position=1).update(config={"url": webhook_receiver.url})
    scheduler_pass(org, day(27))
    assert said(ctx, "is page ops working?")[0].startswith(
        "Workflow “Page ops” is working, but not always: its latest finished run succeeded, and 4 "
        f"of its last 5 runs failed — the latest failure at {format_time(day(26))}: Workflow "
        "“Page ops” failed at step 1"
    )
    assert said(ctx, "when did page ops last succeed") == [
        f"Workflow “Page ops” last succeeded at {format_time(day(27))}: Workflow “Page ops” "
        "succeeded: ✓ step 1 “Page the ops channel”, ✓ step 2 “Log the page”."
    ]


def test_when_something_last_succeeded_counts_the_failures_since(org, ctx, paging, webhook_receiver):
    Step.objects.filter(workflow=paging, position=1).update(config={"url": webhook_receiver.url})
    scheduler_pass(org, day(23))
    Step.objects.filter(workflow=paging, position=1).update(config={"url": "http://127.0.0.1:9/page"})
    scheduler_pass(org, day(24))
    scheduler_pass(org, day(25))

    answer = said(ctx, "when did page ops last succeed?")

    assert answer[0].startswith(f"Workflow “Page ops” last succeeded at {format_time(day(23))}")
    assert answer[1] == "It has failed twice since."


def test_what_is_running_now(org, ctx, paging):
    assert said(ctx, "what's running now?") == ["Nothing is running now."]
    with trace_scope(org=org), with_trace("workflow", name="Nightly export", subject="workflow:0"):
        running = ExecutionTrace.objects.get(name="Nightly export")
        assert said(ctx, "what's running now?") == [
            "1 run is going now:",
            f"Workflow “Nightly export” has been running since {format_time(running.started_at)}.",
        ]
    assert said(ctx, "is page ops running") == ["Workflow “Page ops” is not running now."]


def test_which_alerts_fired_and_which_did_not(org, ctx, paging):
    quiet = Metric.objects.get(name="Quiet")
    make_alert(quiet, name="Quiet alarm", threshold=5)
    scheduler_pass(org, day(27))
    fired = ExecutionTrace.objects.get(name="Orders piling up")

    answer = answer_question("which alerts fired today?", ctx)
    assert [line.text for line in answer.lines] == [
        "1 alert fired today:",
        f"Alert “Orders piling up” fired once out of one evaluation, the latest at {format_time(day(27))}.",
    ]
    assert answer.lines[1].trace_id == fired.id

    make_alert(Metric.objects.get(name="Open orders"), name="Orders gone", operator="<", threshold=0)
    assert said(ctx, "which alerts didn't fire today") == [
        "Alert “Quiet alarm” did not fire today: it was evaluated once.",
        "Not evaluated at all today: “Orders gone”.",
    ]
    assert said(ctx, "which alerts fired yesterday") == ["No alert fired yesterday (0 evaluations)."]


def test_a_count_is_scoped_to_the_organization(org, ctx, paging, other_org):
    other = make_metric(other_org, name="Open orders", sql="SELECT 1/0", schedule="0 9 * * *")
    Metric.objects.filter(pk=other.pk).update(created_at=day(1))
    scheduler_pass(other_org, day(24))
    assert said(ctx, "how many times did open orders fail this week") == [
        "Metric “Open orders” did not fail this week."
    ]
