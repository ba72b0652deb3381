"""“What changed between …?” — two runs compared from chat, over a history
made by the scheduler with the definition changed between its passes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lineage.alerts.models import AlertRule
from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext
from lineage.observability.formatting import format_time
from lineage.observability.models import ExecutionTrace
from tests.factories import make_chain, scheduler_pass, traced_db

pytestmark = traced_db

TODAY = datetime(2026, 11, 27, 9, tzinfo=UTC)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def ctx(org):
    return AskContext(organization=org, org_ids=[org.pk], now=TODAY + timedelta(hours=3))


@pytest.fixture
def threshold_lowered(org):
    """Revenue spike (> 20,000) stays quiet on 12,840 yesterday; its
    threshold is lowered to 10,000 and it fires today."""
    _, alert, _ = make_chain(org, value=12840, threshold=20_000)
    scheduler_pass(org, YESTERDAY)
    AlertRule.objects.filter(pk=alert.pk).update(threshold=10_000)
    scheduler_pass(org, TODAY)
    return alert


def test_what_changed_between_two_days_leads_with_the_threshold(ctx, threshold_lowered):
    answer = answer_question(
        "what changed between yesterday's and today's Revenue spike evaluation?", ctx
    )

    assert [line.text for line in answer.lines] == [
        f"Alert “Revenue spike” did not fire at {format_time(YESTERDAY)} and fired at "
        f"{format_time(TODAY)}. Its threshold changed from 20,000 to 10,000.",
        "Result: did not fire → fired.",
        "Margin: -7,160 → 2,840.",
        "The earlier run.",
    ]
    evaluations = ExecutionTrace.objects.filter(name="Revenue spike").order_by("started_at")
    assert [answer.lines[0].trace_id, answer.lines[-1].trace_id] == [evaluations[1].id, evaluations[0].id]


def test_the_last_two_runs_are_compared_when_no_day_is_named(ctx, threshold_lowered):
    answer = answer_question("compare the last two revenue spike evaluations", ctx)
    assert answer.lines[0].text.startswith("Alert “Revenue spike” did not fire at")


def test_one_run_alone_cannot_be_compared(ctx, org):
    make_chain(org)
    scheduler_pass(org, TODAY)
    assert answer_question("what changed in notify on-call since yesterday", ctx).text == (
        "I need two runs of workflow “Notify on-call” to compare, and found fewer."
    )
