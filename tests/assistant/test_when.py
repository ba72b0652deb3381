"""A question about a time is answered about then: "8 days ago" is that
day, "on Saturday" the last Saturday — never today's run."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext
from lineage.metrics.models import Metric
from lineage.observability.formatting import format_time
from lineage.observability.models import ExecutionTrace
from lineage.workflows.models import Step
from tests.factories import make_alert, make_metric, make_workflow, scheduler_pass, traced_db

pytestmark = traced_db

# Friday 27 November 2026, 15:00 UTC.
NOW = datetime(2026, 11, 27, 15, tzinfo=UTC)


@pytest.fixture
def ctx(org):
    return AskContext(organization=org, org_ids=[org.pk], now=NOW)


@pytest.fixture
def page_ops(org):
    """Page ops fails every time, at a step whose address changes: the
    error tells the runs apart."""
    metric = make_metric(org, name="Open orders", sql="SELECT 7", schedule="0 9 * * *")
    Metric.objects.filter(pk=metric.pk).update(created_at=NOW - timedelta(days=30))
    workflow = make_workflow(org, name="Page ops", steps=[("webhook", "Page", {"url": "http://127.0.0.1:9/a"})])
    make_alert(metric, name="Orders piling up", threshold=5, workflows=[workflow])
    return workflow


def fail_at(org, workflow, moment: datetime, path: str) -> ExecutionTrace:
    Step.objects.filter(workflow=workflow).update(config={"url": f"http://127.0.0.1:9/{path}"})
    scheduler_pass(org, moment)
    return ExecutionTrace.objects.filter(trace_type="workflow").first()


@pytest.mark.parametrize(
    ("question", "day"),
    [
        ("Why did Page ops fail 8 days ago?", datetime(2026, 11, 19, 9, tzinfo=UTC)),
        ("why did page ops fail on saturday", datetime(2026, 11, 21, 9, tzinfo=UTC)),
        ("why did page ops fail last tuesday", datetime(2026, 11, 24, 9, tzinfo=UTC)),
    ],
)
def test_a_question_about_a_day_is_answered_about_that_days_run(org, ctx, page_ops, question, day):
    then = fail_at(org, page_ops, day, "then")
    today = fail_at(org, page_ops, NOW.replace(hour=9), "today")

    answer = answer_question(question, ctx)

    assert answer.lines[0].trace_id == then.id != today.id
    assert "POST http://127.0.0.1:9/then failed" in answer.lines[0].text


def test_a_day_with_no_run_says_so_and_points_at_the_last_one(org, ctx, page_ops):
    today = fail_at(org, page_ops, NOW.replace(hour=9), "today")
    answer = answer_question("why did page ops fail 3 days ago", ctx)
    assert [line.text for line in answer.lines][:2] == [
        "Workflow “Page ops” did not run 3 days ago (on Nov 24).",
        f"Its last run started at {format_time(today.started_at)}.",
    ]
    assert answer.lines[1].trace_id == today.id
