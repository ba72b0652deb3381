"""A run beside another run of the same definition: /traces/<id>/compare/."""
from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from lineage.alerts.models import AlertRule
from lineage.execution.runs import run_metric_execution
from lineage.observability.formatting import format_time
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, make_metric, traced_db
from tests.web.conftest import count_queries

pytestmark = traced_db


def compare_url(trace, other=None) -> str:
    url = reverse("web:trace-compare", args=[trace.id])
    return f"{url}?with={other.id}" if other is not None else url


def evaluations(failing_chain) -> list[ExecutionTrace]:
    """Three evaluations of Orders piling up (value 7): at threshold 5
    (fired), then at 10 twice (quiet)."""
    alert = failing_chain.alert
    for _ in range(2):
        AlertRule.objects.filter(pk=alert.pk).update(threshold=10)
        run_metric_execution(failing_chain.metric, source="schedule")
    return list(ExecutionTrace.objects.filter(subject=alert.subject).order_by("started_at"))


def test_a_run_beside_its_previous_run_leads_with_what_explains_the_difference(member_client, failing_chain):
    first, second, third = evaluations(failing_chain)

    page = member_client.get(compare_url(second)).text

    assert (
        f"Alert “Orders piling up” fired at {format_time(first.started_at)} and did not fire at "
        f"{format_time(second.started_at)}. Its threshold changed from 5 to 10."
    ) in page
    assert reverse("web:trace-detail", args=[first.id]) in page
    assert reverse("web:trace-detail", args=[second.id]) in page
    changed = re.findall(r'<tr class="changed">\s*<th scope="row">([^<]+)</th>', page)
    assert changed == ["Result", "Margin", "Threshold"]


def test_a_run_beside_any_other_says_when_a_change_was_first_used(member_client, failing_chain):
    first, second, third = evaluations(failing_chain)

    page = member_client.get(compare_url(third, first)).text

    assert (
        "Its threshold changed from 5 to 10, first used at "
        f"{format_time(second.started_at)}."
    ) in page


def test_the_trace_page_links_to_the_comparison(member_client, failing_chain):
    workflow = failing_chain.traces["workflow"]
    page = member_client.get(reverse("web:trace-detail", args=[workflow.id])).text
    assert f'href="{compare_url(workflow)}">Compare with previous run</a>' in page
    assert "There is no earlier run of workflow “Page ops” to compare with." in member_client.get(
        compare_url(workflow)
    ).text


def test_two_workflow_runs_show_their_steps_side_by_side(member_client, failing_chain, webhook_receiver):
    webhook_receiver.status = 200
    run_metric_execution(failing_chain.metric, source="schedule")
    later = ExecutionTrace.objects.filter(trace_type="workflow").first()
    earlier = failing_chain.traces["workflow"]

    page = member_client.get(compare_url(later)).text

    assert (
        f"Workflow “Page ops” failed at step 1 at {format_time(earlier.started_at)} and succeeded "
        f"at {format_time(later.started_at)}. The earlier run failed (Workflow “Page ops” failed "
        "at step 1 “Page the ops channel” (webhook): POST"
    ) in page
    rows = dict(re.findall(r'<th scope="row">(Step \d [^<]+)</th>\s*<td><pre class="cell">([^<]+)</pre>', page))
    assert rows == {"Step 1 “Page the ops channel”": "failed", "Step 2 “Log the page”": "not run"}
    assert "Status" in page and "succeeded" in page


def test_another_organizations_runs_are_not_found(failing_chain, outsider, member_client, other_org):
    first, second, _ = evaluations(failing_chain)
    client = Client()
    client.force_login(outsider)
    assert client.get(compare_url(second)).status_code == 404
    theirs = run_metric_execution(make_metric(other_org, name="Theirs", sql="SELECT 1"))
    theirs_trace = ExecutionTrace.objects.get(pk=theirs.trace_id)
    assert member_client.get(compare_url(second, theirs_trace)).status_code == 404
    assert member_client.get(compare_url(second) + "?with=not-an-id").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, failing_chain):
    response = client.get(compare_url(failing_chain.traces["alert"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_names_and_values_are_escaped(member_client, org):
    metric = make_metric(org, name="<b>Bold</b>", sql="SELECT 1")
    make_alert(metric, name="<script>alert(1)</script>", threshold=0)
    run_metric_execution(metric)
    run_metric_execution(metric)
    later = ExecutionTrace.objects.filter(trace_type="alert").first()

    page = member_client.get(compare_url(later)).text

    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Bold</b>" not in page


def test_the_comparison_costs_the_same_queries_however_many_runs(member_client, failing_chain):
    few = count_queries(member_client, compare_url(evaluations(failing_chain)[-1]))
    for _ in range(5):
        run_metric_execution(failing_chain.metric, source="schedule")
    latest = ExecutionTrace.objects.filter(trace_type="alert").first()
    assert count_queries(member_client, compare_url(latest)) == few
