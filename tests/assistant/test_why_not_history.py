"""“Why didn't it run?” answered from what happened in the window, then from
what changed since. The history is made by the scheduler at chosen times,
with definitions changed between its passes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lineage.alerts.models import AlertRule
from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext
from lineage.metrics.models import Metric
from lineage.observability.formatting import format_time
from lineage.workflows.models import Workflow
from tests.factories import make_alert, make_metric, make_workflow, scheduler_pass, traced_db

pytestmark = traced_db

# Thursday 26 November 2026, noon UTC: "this morning" is 00:00–12:00.
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 26, hour, minute, tzinfo=UTC)


@pytest.fixture
def ctx(org):
    return AskContext(organization=org, org_ids=[org.pk], now=NOW)


@pytest.fixture
def refunds(org):
    """Refunds (1 today) → Refunds high (> 5) → Refund review."""
    metric = make_metric(org, name="Refunds", sql="SELECT 1", schedule="*/5 * * * *")
    Metric.objects.filter(pk=metric.pk).update(created_at=NOW - timedelta(days=30))
    workflow = make_workflow(org, name="Refund review")
    alert = make_alert(metric, name="Refunds high", threshold=5, workflows=[workflow])
    return metric, alert, workflow


def said(context, question: str) -> list[str]:
    return [line.text for line in answer_question(question, context).lines]


def test_an_alert_disabled_after_it_was_evaluated_is_told_from_its_evaluations(org, ctx, refunds):
    _, alert, _ = refunds
    scheduler_pass(org, at(9))
    scheduler_pass(org, at(9, 5))
    AlertRule.objects.filter(pk=alert.pk).update(enabled=False)

    assert said(ctx, "why didn't Refund review run this morning?") == [
        "Workflow “Refund review” did not run this morning. It is started by alert “Refunds high”.",
        "Alert “Refunds high” was evaluated twice this morning and never fired: the latest, at "
        f"{format_time(at(9, 5))}, compared value 1 > threshold 5, which is false, short by 4.",
        "It has since been disabled.",
    ]


def test_a_threshold_changed_since_is_told_as_then_and_now(org, ctx, refunds):
    metric, alert, _ = refunds
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 12840")
    AlertRule.objects.filter(pk=alert.pk).update(threshold=20_000)
    scheduler_pass(org, at(9))
    AlertRule.objects.filter(pk=alert.pk).update(threshold=10_000)

    assert said(ctx, "why hasn't refunds high fired this morning")[-2:] == [
        "Alert “Refunds high” was evaluated once this morning and never fired: the latest, at "
        f"{format_time(at(9))}, compared value 12,840 > threshold 20,000, which is false, short by 7,160.",
        "Its threshold was 20,000 then, 10,000 now.",
    ]


def test_a_workflow_disabled_when_its_alert_fired_was_not_started(org, ctx, refunds):
    metric, _, workflow = refunds
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 9")
    Workflow.objects.filter(pk=workflow.pk).update(enabled=False)
    scheduler_pass(org, at(9))
    Workflow.objects.filter(pk=workflow.pk).update(enabled=True)

    assert said(ctx, "why didn't refund review run this morning")[-1] == (
        f"Alert “Refunds high” fired once this morning (the latest at {format_time(at(9))}), but workflow "
        "“Refund review” was not among the workflows it started: it started none. Workflow "
        "“Refund review” was disabled or not linked to it then; it is enabled now."
    )


def test_an_alert_disabled_when_its_metric_ran_was_not_evaluated(org, ctx, refunds):
    _, alert, _ = refunds
    AlertRule.objects.filter(pk=alert.pk).update(enabled=False)
    scheduler_pass(org, at(9))
    scheduler_pass(org, at(9, 5))
    AlertRule.objects.filter(pk=alert.pk).update(enabled=True)

    assert said(ctx, "why didn't refunds high fire this morning") == [
        "Metric “Refunds” ran twice this morning without evaluating alert “Refunds high” (the "
        f"latest at {format_time(at(9, 5))}): the alert was disabled or did not exist then; it is enabled now."
    ]


def test_a_failing_metric_is_told_with_its_query_and_what_changed_since(org, ctx, refunds):
    metric, _, _ = refunds
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 1/0")
    scheduler_pass(org, at(9))
    scheduler_pass(org, at(9, 5))
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 2")

    assert said(ctx, "why didn't refunds high fire this morning") == [
        "Alert “Refunds high” was not evaluated this morning, because:",
        "Metric “Refunds” ran twice this morning and failed every time, so its alerts were not "
        f"evaluated. The latest run, at {format_time(at(9, 5))}: its query failed: division by zero, in "
        "“SELECT 1/0”.",
        "Its query was “SELECT 1/0” then, “SELECT 2” now.",
    ]


def test_a_metric_disabled_with_nothing_in_the_window_is_told_by_its_setting(org, ctx, refunds):
    metric, _, _ = refunds
    scheduler_pass(org, at(9) - timedelta(days=2))
    Metric.objects.filter(pk=metric.pk).update(enabled=False)

    assert said(ctx, "why didn't refunds run this morning") == [
        "Metric “Refunds” is disabled, so it did not run this morning.",
        f"It last ran at {format_time(at(9) - timedelta(days=2))}.",
    ]


def test_a_run_in_the_window_beats_any_setting(org, ctx, refunds):
    metric, _, workflow = refunds
    Metric.objects.filter(pk=metric.pk).update(sql="SELECT 9")
    scheduler_pass(org, at(9))
    Workflow.objects.filter(pk=workflow.pk).update(enabled=False)

    assert said(ctx, "why didn't refund review run this morning") == [
        f"Workflow “Refund review” did run this morning: the latest run started at {format_time(at(9))} "
        "and succeeded."
    ]


def test_a_time_phrase_not_understood_says_which_window_was_used(org, ctx, refunds):
    scheduler_pass(org, at(9))
    assert said(ctx, "why didn't refund review run last quarter")[0] == (
        "I did not understand “last quarter” as a time; I looked in the last 24 hours instead."
    )
