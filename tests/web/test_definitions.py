"""Metrics, alerts and workflows: lists, pages, last runs with their why, Run now."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.metrics.schedules import previous_tick
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, make_metric, make_trace, make_workflow, traced_db
from tests.web.conftest import count_queries

pytestmark = traced_db

RUN_ROW = re.compile(r'<tr class="run-row">(.*?)</tr>', re.S)


def run_rows(response) -> list[str]:
    return RUN_ROW.findall(response.text)


# --- Lists -------------------------------------------------------------------


def test_metric_list_shows_schedule_alert_count_and_last_run(member_client, failing_chain):
    response = member_client.get(reverse("web:metric-list"))
    assert reverse("web:metric-detail", args=[failing_chain.metric.pk]) in response.text
    assert "*/5 * * * *" in response.text
    last = failing_chain.traces["metric"]
    assert reverse("web:trace-detail", args=[last.id]) in response.text


def test_alert_list_shows_condition_severity_and_workflows(member_client, failing_chain):
    response = member_client.get(reverse("web:alert-list"))
    assert "Open orders &gt; 5" in response.text
    assert "Warning" in response.text
    assert reverse("web:workflow-detail", args=[failing_chain.workflow.pk]) in response.text
    assert reverse("web:trace-detail", args=[failing_chain.traces["alert"].id]) in response.text


def test_workflow_list_shows_step_count_and_last_run(member_client, failing_chain):
    response = member_client.get(reverse("web:workflow-list"))
    assert '<td class="num" data-label="Steps">2</td>' in response.text
    assert "status-failed" in response.text
    assert reverse("web:trace-detail", args=[failing_chain.traces["workflow"].id]) in response.text


@pytest.mark.parametrize(
    "name, make",
    [
        ("web:metric-list", lambda org, n: make_metric(org, name=f"m{n}")),
        (
            "web:alert-list",
            lambda org, n: make_alert(
                make_metric(org, name=f"m{n}"), name=f"a{n}", workflows=[make_workflow(org, name=f"w{n}")]
            ),
        ),
        ("web:workflow-list", lambda org, n: make_workflow(org, name=f"w{n}")),
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    member_client, org, django_assert_num_queries, name, make
):
    def add(numbers: range) -> None:
        for n in numbers:
            definition = make(org, n)
            make_trace(org, definition.name, subject=definition.subject)

    add(range(3))
    few = count_queries(member_client, reverse(name))
    add(range(3, 30))
    with django_assert_num_queries(few):
        response = member_client.get(reverse(name))
    assert response.text.count("status-succeeded") == 30


# --- Pages -------------------------------------------------------------------


def test_metric_page_shows_definition_values_and_why_each_run_ran(member_client, failing_chain, member):
    metric = failing_chain.metric
    run_metric_execution(metric, source="manual")  # started by hand this time
    response = member_client.get(reverse("web:metric-detail", args=[metric.pk]))

    assert "SELECT 7" in response.text
    assert "Orders piling up" in response.text
    assert '<span class="value">7</span>' in response.text
    manual, scheduled = run_rows(response)
    assert "Ran when started by hand." in manual  # the row says when
    assert "Ran on its schedule (*/5 * * * *)." in scheduled
    assert "computed 7" in scheduled


def test_alert_page_says_which_metric_run_caused_each_evaluation(member_client, failing_chain):
    alert = failing_chain.alert
    response = member_client.get(reverse("web:alert-detail", args=[alert.pk]))

    assert "value &gt; 5" in response.text
    assert reverse("web:metric-detail", args=[failing_chain.metric.pk]) in response.text
    [row] = run_rows(response)
    assert "Because metric “Open orders” computed 7" in row
    assert '<td class="result" data-label="Result">fired by 2</td>' in row
    assert reverse("web:trace-detail", args=[failing_chain.traces["alert"].id]) in row


def test_workflow_page_shows_steps_and_why_each_run_ran(member_client, failing_chain):
    workflow = failing_chain.workflow
    response = member_client.get(reverse("web:workflow-detail", args=[workflow.pk]))

    assert response.text.index("Page the ops channel") < response.text.index("Log the page")
    assert "POST to a webhook" in response.text
    assert "Orders piling up" in response.text  # the alert that starts it
    [row] = run_rows(response)
    assert "Because alert “Orders piling up” fired (value 7 &gt; threshold 5, by 2)." in row
    assert "status-failed" in row
    assert "HTTP 500" in row
    assert "step 1 failed" in row


def test_run_with_a_deleted_parent_says_so(member_client, org):
    workflow = make_workflow(org, name="Orphan")
    gone = make_trace(org, "Deleted alert", trace_type="alert")
    make_trace(org, "Orphan", trace_type="workflow", subject=workflow.subject, dependencies=[gone.id])
    gone.delete()
    [row] = run_rows(member_client.get(reverse("web:workflow-detail", args=[workflow.pk])))
    assert "Caused by a trace that no longer exists." in row


def test_definition_pages_show_at_most_ten_runs_in_constant_queries(member_client, org, django_assert_num_queries):
    workflow = make_workflow(org, name="Busy")
    url = reverse("web:workflow-detail", args=[workflow.pk])

    def add_runs(count: int) -> None:
        for _ in range(count):
            alert = make_trace(org, "Trigger", trace_type="alert", outputs={"fired": True})
            make_trace(org, "Busy", trace_type="workflow", subject=workflow.subject, dependencies=[alert.id])

    add_runs(3)
    few = count_queries(member_client, url)
    add_runs(30)
    with django_assert_num_queries(few):
        response = member_client.get(url)
    rows = run_rows(response)
    assert len(rows) == 10
    assert all("Because alert “Trigger” fired" in row for row in rows)


def test_script_in_a_metric_name_renders_as_text(member_client, org):
    metric = make_metric(org, name="<script>alert(1)</script>")
    run_metric_execution(metric)
    for url in (
        reverse("web:metric-list"),
        reverse("web:metric-detail", args=[metric.pk]),
        reverse("web:trace-list"),
        reverse("web:trace-detail", args=[ExecutionTrace.objects.get(subject=metric.subject).id]),
    ):
        text = member_client.get(url).text
        assert "<script>alert(1)</script>" not in text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, url


# --- Run now -------------------------------------------------------------------


def test_editor_runs_a_metric_now_and_lands_on_its_trace(member_client, failing_chain):
    metric = failing_chain.metric
    page = member_client.get(reverse("web:metric-detail", args=[metric.pk]))
    assert "Run now" in page.text

    response = member_client.post(reverse("web:metric-run", args=[metric.pk]))

    trace = ExecutionTrace.objects.filter(subject=metric.subject, source="manual").get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:trace-detail", args=[trace.id])
    assert trace.inputs["started_by"] == "member"
    assert trace.status == "succeeded"


def test_editor_runs_a_workflow_now_with_htmx_and_is_redirected_client_side(member_client, org):
    workflow = make_workflow(org, name="Notify on-call")
    response = member_client.post(
        reverse("web:workflow-run", args=[workflow.pk]), HTTP_HX_REQUEST="true"
    )
    trace = ExecutionTrace.objects.get(subject=workflow.subject)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("web:trace-detail", args=[trace.id])
    assert trace.source == "manual"
    assert trace.inputs["started_by"] == "member"
    assert ExecutionTrace.objects.filter(trace_type="step", dependencies__contains=[trace.id]).count() == 1


def test_viewer_has_no_button_and_cannot_run(client, viewer, org):
    metric = make_metric(org)
    workflow = make_workflow(org)
    client.force_login(viewer)
    assert "Run now" not in client.get(reverse("web:metric-detail", args=[metric.pk])).text
    assert "Run now" not in client.get(reverse("web:workflow-detail", args=[workflow.pk])).text
    assert client.post(reverse("web:metric-run", args=[metric.pk])).status_code == 403
    assert client.post(reverse("web:workflow-run", args=[workflow.pk])).status_code == 403
    assert not ExecutionTrace.objects.exists()


def test_outsider_cannot_run_another_organizations_definitions(client, outsider, org):
    metric = make_metric(org)
    workflow = make_workflow(org)
    client.force_login(outsider)
    assert client.post(reverse("web:metric-run", args=[metric.pk])).status_code == 404
    assert client.post(reverse("web:workflow-run", args=[workflow.pk])).status_code == 404
    assert not ExecutionTrace.objects.exists()


def test_run_now_is_post_only_and_needs_csrf(member, org):
    metric = make_metric(org)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.get(reverse("web:metric-run", args=[metric.pk])).status_code == 405
    assert strict.post(reverse("web:metric-run", args=[metric.pk])).status_code == 403
    assert not ExecutionTrace.objects.exists()


# --- Re-run from a failed run's page ----------------------------------------------


def test_editor_reruns_a_failed_workflow_from_its_page_and_the_new_run_points_back(
    member_client, failing_chain, webhook_receiver
):
    failed = failing_chain.traces["workflow"]
    page = member_client.get(reverse("web:trace-detail", args=[failed.id]))
    assert reverse("web:trace-rerun", args=[failed.id]) in page.text
    webhook_receiver.status = 200  # the on-call chat server is back

    response = member_client.post(reverse("web:trace-rerun", args=[failed.id]))

    rerun = ExecutionTrace.objects.exclude(pk=failed.pk).get(subject=failed.subject)
    assert response["Location"] == reverse("web:trace-detail", args=[rerun.id])
    assert (rerun.status, rerun.source, rerun.dependencies) == ("succeeded", "manual", [failed.id])
    assert rerun.inputs["context"]["value"] == 7  # what the failed run would have sent
    page = member_client.get(response["Location"]).text
    assert "It was re-run by hand by member after its run at" in page
    assert reverse("web:trace-rerun", args=[rerun.id]) not in page  # it succeeded
    [latest, _] = run_rows(member_client.get(reverse("web:workflow-detail", args=[failing_chain.workflow.pk])))
    assert "Re-run by hand by member after its run at" in latest


def test_rerun_is_offered_only_for_failed_metric_and_workflow_runs(member_client, failing_chain):
    for kind in ("metric", "alert", "step"):
        trace = failing_chain.traces[kind]
        page = member_client.get(reverse("web:trace-detail", args=[trace.id]))
        assert reverse("web:trace-rerun", args=[trace.id]) not in page.text, kind


def test_a_run_that_cannot_be_rerun_says_why_on_its_page(member_client, failing_chain):
    succeeded = failing_chain.traces["metric"]

    response = member_client.post(reverse("web:trace-rerun", args=[succeeded.id]), follow=True)

    assert "This run was not re-run: it succeeded; only failed runs are re-run." in response.text
    assert ExecutionTrace.objects.filter(subject=succeeded.subject).count() == 1


def test_viewers_outsiders_and_forged_posts_cannot_rerun(client, viewer, outsider, member, failing_chain):
    failed = failing_chain.traces["workflow"]
    url = reverse("web:trace-rerun", args=[failed.id])
    client.force_login(viewer)
    assert reverse("web:trace-rerun", args=[failed.id]) not in client.get(
        reverse("web:trace-detail", args=[failed.id])
    ).text
    assert client.post(url).status_code == 403
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.post(url).status_code == 403
    assert strict.get(url).status_code == 405
    assert ExecutionTrace.objects.filter(subject=failed.subject).count() == 1


def test_a_definition_page_shows_its_health_and_links_all_its_runs(member_client, failing_chain):
    text = member_client.get(reverse("web:workflow-detail", args=[failing_chain.workflow.pk])).text
    health = re.search(r'<section class="card health".*?</section>', text, re.S).group(0)
    assert "0 %" in health and "failing" in health and "since" in health
    assert f'?subject=workflow%3A{failing_chain.workflow.pk}">All its runs' in health


def test_a_metrics_sparkline_draws_its_values_and_alert_thresholds_escaped(member_client, org):
    metric = make_metric(org, name="Open orders", sql="SELECT 7")
    make_alert(metric, name="<b>Piling</b>", threshold=5)
    for value in (3, 9, 7):
        metric.values.create(value=value)

    text = member_client.get(reverse("web:metric-detail", args=[metric.pk])).text

    svg = re.search(r'<svg class="sparkline".*?</svg>', text, re.S).group(0)
    assert svg.count('<circle class="dot"') == 3
    assert svg.count('<line class="threshold"') == 1
    assert "&lt;b&gt;Piling&lt;/b&gt; 5" in svg and "<b>" not in svg


def test_a_metric_page_shows_the_ticks_no_scheduler_ran(member_client, org):
    metric = make_metric(org, name="Backlog", sql="SELECT 1")  # every 5 minutes
    owed = previous_tick(metric.schedule, timezone.now()) - timedelta(hours=1)
    Metric.objects.filter(pk=metric.pk).update(next_run_at=owed)
    url = reverse("web:metric-detail", args=[metric.pk])

    page = member_client.get(url).text

    assert "Missed ticks: 13 ticks of its schedule have not run (" in page
    assert "Check that run_scheduler is in cron." in page
    Metric.objects.filter(pk=metric.pk).update(enabled=False)
    assert "Missed ticks" not in member_client.get(url).text
