"""The Failures page: failed runs grouped by what failed."""
from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories import make_trace, traced_db
from tests.web.conftest import count_queries

pytestmark = traced_db

URL = reverse("web:failures")
GROUP = re.compile(r'<tr class="failure-group">(.*?)</tr>', re.S)


def groups(response) -> list[str]:
    return GROUP.findall(response.text)


def failed_workflow(org, step_name: str, minutes_ago: int, error: str = "boom"):
    return make_trace(
        org,
        "Page ops",
        trace_type="workflow",
        status="failed",
        subject="workflow:1",
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
        outputs={"failed_step": {"position": 1 if step_name == "Page" else 2, "name": step_name, "kind": "webhook"}},
        error=f"StepFailed: step “{step_name}” failed: {error}\n\nTraceback (most recent call last):\n  ...",
    )


def test_a_failed_engine_run_is_listed_with_its_step_error_and_latest_run(member_client, failing_chain):
    response = member_client.get(URL)
    [group] = groups(response)
    workflow_trace = failing_chain.traces["workflow"]

    assert "Page ops" in group
    assert "at step 1 “Page the ops channel”" in group
    assert "HTTP 500" in group
    assert "Traceback" not in group
    assert reverse("web:trace-detail", args=[workflow_trace.id]) in group
    assert reverse("web:workflow-detail", args=[failing_chain.workflow.pk]) in group


def test_failures_are_grouped_by_definition_and_step_with_counts(member_client, org):
    failed_workflow(org, "Page", 50, "first")
    failed_workflow(org, "Page", 40, "second")
    latest = failed_workflow(org, "Page", 30, "third")
    other_step = failed_workflow(org, "Log", 20)
    make_trace(org, "Open orders", status="failed", subject="metric:9", error="MetricError: no rows")
    make_trace(org, "Open orders", status="succeeded", subject="metric:9")

    rows = groups(member_client.get(URL))

    assert len(rows) == 3
    metric_row, log_row, page_row = rows  # newest failure first
    assert "Open orders" in metric_row and ">1</span>" in metric_row
    assert "“Log”" in log_row and ">1</span>" in log_row
    assert reverse("web:trace-detail", args=[other_step.id]) in log_row
    assert "“Page”" in page_row and ">3</span>" in page_row
    assert "failed: third" in page_row and "failed: first" not in page_row
    assert reverse("web:trace-detail", args=[latest.id]) in page_row


def test_nothing_failed(member_client, org):
    make_trace(org, "Fine")
    response = member_client.get(URL)
    assert groups(response) == []
    assert "Nothing has failed in the last 24 hours." in response.text


def test_other_organizations_failures_are_not_shown(member_client, org, other_org):
    make_trace(other_org, "Globex revenue", status="failed", error="boom")
    assert "Globex revenue" not in member_client.get(URL).text


def test_failure_names_and_errors_are_escaped(member_client, org):
    make_trace(org, "<script>alert(1)</script>", status="failed", error="<img src=x onerror=alert(2)>")
    response = member_client.get(URL)
    assert "<script>alert(1)" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in response.text


def test_one_query_for_all_groups(member_client, org, django_assert_num_queries):
    for n in range(3):
        make_trace(org, f"metric {n}", status="failed", subject=f"metric:{n}", error="boom")
    few = count_queries(member_client, URL)
    for n in range(3, 40):
        make_trace(org, f"metric {n}", status="failed", subject=f"metric:{n}", error="boom")
    with django_assert_num_queries(few):
        response = member_client.get(URL)
    assert len(groups(response)) == 10  # one cause, its definitions bounded
    assert "and 30 more definitions with this cause." in response.text


def test_failures_of_different_definitions_with_one_cause_are_grouped_across_them(member_client, org):
    for n in range(4):
        make_trace(
            org, f"Page team {n}", trace_type="workflow", status="failed", subject=f"workflow:{n}",
            error=f"StepFailed: step 1 “Page” (webhook) failed: POST http://127.0.0.1:9/p{n} failed:"
            " [Errno 111] Connection refused",
        )
    make_trace(org, "Open orders", status="failed", subject="metric:9", error="MetricError: no rows")

    text = member_client.get(URL).text

    assert "Connection refused at 127.0.0.1:9</code> <span class=\"muted\">— 4 workflows · 4 failures" in text
    assert "MetricError: no rows</code> <span class=\"muted\">— 1 metric · 1 failure" in text


def test_a_failing_definition_says_since_when_and_how_many_runs_in_a_row(member_client, org):
    make_trace(org, "Open orders", status="succeeded", subject="metric:9",
               started_at=timezone.now() - timedelta(minutes=40))
    for minutes in (30, 20, 10):
        make_trace(org, "Open orders", status="failed", subject="metric:9", error="boom",
                   started_at=timezone.now() - timedelta(minutes=minutes))

    [group] = groups(member_client.get(URL))

    assert "Failing since" in group and "3 runs in a row" in group and "last success" in group
    assert group.count('class="strip-failed') == 3 and group.count('class="strip-succeeded') == 1


def test_the_window_bounds_what_is_counted_and_more_pages_through_causes(member_client, org):
    make_trace(org, "Old", status="failed", subject="metric:1", error="old cause",
               started_at=timezone.now() - timedelta(days=3))
    for n in range(25):
        make_trace(org, f"m{n}", status="failed", subject=f"metric:{100 + n}", error=f"Cause{n}: x{n}: y{n}")

    day = member_client.get(URL).text
    assert "old cause" not in day
    assert day.count('class="cause-head"') == 20
    assert "5 more causes — show" in day
    more = member_client.get(URL + "?window=24h&causes=40").text
    assert more.count('class="cause-head"') == 25
    week = member_client.get(URL + "?window=7d&causes=40").text
    assert "old cause" in week
    assert member_client.get(URL + "?window=nonsense&causes=-3").status_code == 200
