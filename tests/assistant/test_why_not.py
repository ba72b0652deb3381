"""“Why didn't it run?” — each reason read from the traces, at a fixed moment."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.formatting import format_time
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, make_chain, make_trace, make_workflow, traced_db

pytestmark = traced_db

NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)


@pytest.fixture
def ctx(org):
    return AskContext(organization=org, org_ids=[org.pk], now=NOW)


def chain(org, **options):
    """The metric → alert → workflow chain, defined a month before NOW."""
    metric, alert, workflow = make_chain(org, **options)
    Metric.objects.filter(pk=metric.pk).update(created_at=NOW - timedelta(days=30))
    metric.refresh_from_db()
    return metric, alert, workflow


def ran_at(moment: datetime, **filters) -> ExecutionTrace:
    """Move the traces written so far to `moment`; the metric's trace."""
    ExecutionTrace.objects.filter(**filters).update(started_at=moment, completed_at=moment)
    return ExecutionTrace.objects.filter(trace_type="metric").order_by("-started_at").first()


def sentences(answer) -> list[str]:
    return [line.text for line in answer.lines]


def test_a_quiet_evaluation_gives_value_threshold_and_margin(org, ctx):
    metric, _, _ = chain(org, value=9_000, threshold=10_000)
    run_metric_execution(metric)
    ran_at(NOW - timedelta(minutes=10))
    alert = ExecutionTrace.objects.get(trace_type="alert")

    answer = answer_question("why didn't Notify on-call run in the last hour?", ctx)

    assert sentences(answer) == [
        "Workflow “Notify on-call” did not run in the last hour. It is started by alert “Revenue spike”.",
        "Alert “Revenue spike” was evaluated once in the last hour and never fired: the latest, at "
        f"{format_time(alert.started_at)}, compared value 9,000 > threshold 10,000, which is "
        "false, short by 1,000.",
    ]
    assert answer.lines[-1].trace_id == alert.id


def test_a_failed_metric_is_the_reason_with_its_error(org, ctx):
    metric, _, _ = chain(org)
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 1/0")
    metric.refresh_from_db()
    run_metric_execution(metric)
    failed = ran_at(NOW - timedelta(minutes=10))

    answer = answer_question("why didnt notify on-call run today", ctx)

    assert sentences(answer)[1:] == [
        "Alert “Revenue spike” was not evaluated today, because:",
        "Metric “Daily revenue” ran once today and failed, so its alerts were not evaluated. The "
        f"latest run, at {format_time(failed.started_at)}: its query failed: division by zero, in "
        "“SELECT 1/0”.",
    ]
    assert answer.lines[-1].trace_id == failed.id


def test_no_evaluation_in_the_window_is_a_missed_schedule(org, ctx):
    metric, _, _ = chain(org)
    run_metric_execution(metric)
    last = ran_at(NOW - timedelta(days=3))

    answer = answer_question("why didn't Notify on-call run today?", ctx)

    assert sentences(answer)[1:] == [
        "Alert “Revenue spike” was not evaluated today, because:",
        "Metric “Daily revenue” did not run today, although its schedule (*/5 * * * *) made it "
        f"due at {format_time(datetime(2026, 11, 27, tzinfo=UTC))} — a missed schedule: check "
        "that run_scheduler is in cron.",
        f"It last ran at {format_time(last.started_at)}.",
    ]
    assert answer.lines[-1].trace_id == last.id


def test_a_metric_that_was_not_due_is_not_called_missed(org, ctx):
    metric, _, _ = chain(org)
    Metric.objects.filter(pk=metric.pk).update(schedule="0 6 * * *")

    answer = answer_question("why didn't notify on-call run in the last hour", ctx)

    assert sentences(answer)[2:] == [
        "Metric “Daily revenue” was not due in the last hour: its schedule (0 6 * * *) next "
        f"fires at {format_time(datetime(2026, 11, 28, 6, tzinfo=UTC))}.",
        "Metric “Daily revenue” has never run.",
    ]


def test_a_tick_the_scheduler_has_not_reached_yet_is_not_called_missed(org, ctx):
    chain(org)
    ctx.now = NOW + timedelta(seconds=40)

    answer = answer_question("why hasn't daily revenue run since 10:28", ctx)

    assert answer.lines[0].text == (
        f"Metric “Daily revenue” is due at {format_time(NOW)} (*/5 * * * *); run_scheduler runs "
        "once a minute, so that run has not started yet."
    )


def test_with_nothing_in_the_window_the_current_settings_are_the_reason(org, ctx):
    metric, alert, workflow = chain(org)
    Metric.objects.filter(pk=metric.pk).update(schedule="")
    workflow.enabled = False
    workflow.save()
    assert sentences(answer_question("why didn't notify on-call run", ctx))[-1] == (
        "Workflow “Notify on-call” is disabled, so no alert starts it."
    )
    alert.enabled = False
    alert.save()
    assert sentences(answer_question("why hasn't revenue spike fired today", ctx))[-1] == (
        "Alert “Revenue spike” is disabled now, too, so it would not be evaluated anyway."
    )
    metric.enabled = False
    metric.save()
    assert sentences(answer_question("why hasn't daily revenue run today", ctx)) == [
        "Metric “Daily revenue” is disabled, so it did not run today.",
        "Metric “Daily revenue” has never run.",
    ]


def test_a_run_in_the_window_is_shown_instead(org, ctx):
    metric, _, _ = chain(org)
    run_metric_execution(metric)
    ran_at(NOW - timedelta(minutes=5))
    workflow = ExecutionTrace.objects.get(trace_type="workflow")

    answer = answer_question("why didn't notify on-call run today", ctx)

    assert answer.lines[0].text == (
        f"Workflow “Notify on-call” did run today: the latest run started at "
        f"{format_time(workflow.started_at)} and succeeded."
    )
    assert answer.lines[0].trace_id == workflow.id


def test_an_alert_that_fired_says_when(org, ctx):
    metric, _, _ = chain(org)
    run_metric_execution(metric)
    ran_at(NOW - timedelta(minutes=5))
    alert = ExecutionTrace.objects.get(trace_type="alert")

    answer = answer_question("why hasn't Revenue spike fired since Monday?", ctx)

    assert answer.lines[0].text == (
        f"Alert “Revenue spike” fired once since Monday; the latest at {format_time(alert.started_at)}."
    )
    assert answer.lines[0].trace_id == alert.id


def test_a_failed_evaluation_gives_its_error(org, ctx):
    metric, alert, _ = chain(org)
    failed = make_trace(
        org, "Revenue spike", trace_type="alert", status="failed", subject=alert.subject,
        started_at=NOW - timedelta(minutes=3), inputs={"value": 1}, error="TypeError: bad threshold",
    )  # fmt: skip

    answer = answer_question("why did revenue spike not fire in the last hour", ctx)

    assert sentences(answer) == [
        "Alert “Revenue spike” was evaluated once in the last hour and never fired; the latest "
        f"evaluation, at {format_time(failed.started_at)}, failed: TypeError: bad threshold.",
    ]


def test_an_alert_added_after_the_metric_ran_has_no_evaluation(org, ctx):
    metric, _, _ = chain(org)
    run_metric_execution(metric)
    ran_at(NOW - timedelta(minutes=5))
    late = make_alert(metric, name="Revenue dip", operator="<", threshold=100)

    answer = answer_question("why didn't revenue dip fire in the last hour", ctx)

    assert answer.lines[0].text == (
        f"Metric “Daily revenue” ran once in the last hour without evaluating alert “{late.name}” "
        f"(the latest at {format_time(NOW - timedelta(minutes=5))}): the alert was disabled or did "
        "not exist then; it is enabled now."
    )


def test_a_workflow_no_alert_starts_runs_only_by_hand(org, ctx):
    make_workflow(org, name="Weekly digest")
    assert sentences(answer_question("why didn't weekly digest run?", ctx)) == [
        "No alert starts workflow “Weekly digest”; it runs only when started by hand."
    ]


def test_a_metric_without_schedule_runs_only_by_hand(org, ctx):
    chain(org)
    Metric.objects.update(schedule="")
    assert sentences(answer_question("why wasn't daily revenue computed today", ctx)) == [
        "Metric “Daily revenue” has no schedule, so it runs only when started by hand or from chat.",
        "Metric “Daily revenue” has never run.",
    ]


def test_why_not_about_the_trace_being_viewed_uses_its_definition(org, ctx):
    metric, _, _ = chain(org, value=9_000)
    run_metric_execution(metric)
    ran_at(NOW - timedelta(minutes=10))
    alert = ExecutionTrace.objects.get(trace_type="alert")
    ctx.trace_id = alert.id

    answer = answer_question("why didn't this fire?", ctx)

    assert answer.args["name"] == "Revenue spike"
    assert "Alert “Revenue spike” was evaluated once in the last 24 hours and never fired" in answer.text


def test_ticks_before_the_metric_existed_were_not_owed(org, ctx):
    metric, _, _ = chain(org)
    Metric.objects.filter(pk=metric.pk).update(created_at=NOW + timedelta(minutes=1))

    answer = answer_question("why didn't daily revenue run this morning", ctx)

    assert sentences(answer) == [
        f"Metric “Daily revenue” did not exist yet: it was created at {format_time(NOW + timedelta(minutes=1))}.",
        "Metric “Daily revenue” has never run.",
    ]
