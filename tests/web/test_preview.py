"""The metric page's Preview: what a run would do now, recording nothing."""
from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lineage.metrics.models import MetricValue
from lineage.observability.models import ExecutionTrace
from tests.factories import make_alert, traced_db

pytestmark = traced_db


def preview_url(metric) -> str:
    return reverse("web:metric-preview", args=[metric.pk])


def signed_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def test_the_metric_page_offers_a_preview(member_client, failing_chain):
    page = member_client.get(reverse("web:metric-detail", args=[failing_chain.metric.pk])).text
    assert f'action="{preview_url(failing_chain.metric)}"' in page
    assert ">Preview</button>" in page


def test_a_viewer_previews_what_would_fire_and_nothing_is_recorded(viewer, failing_chain):
    before = ExecutionTrace.objects.count(), MetricValue.objects.count()

    response = signed_in(viewer).post(preview_url(failing_chain.metric), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="preview" class="preview">') and "<html" not in body
    assert "<li>Metric “Open orders” would be 7.</li>" in body
    assert "<li>Alert “Orders piling up” would fire (7 &gt; 5, by 2) and start workflow “Page ops” (2 steps).</li>" in body
    assert "Nothing was recorded" in body
    assert (ExecutionTrace.objects.count(), MetricValue.objects.count()) == before
    assert "HX-Request" in response["Vary"]


def test_without_javascript_the_preview_is_on_the_metric_page(member_client, failing_chain):
    page = member_client.post(preview_url(failing_chain.metric)).content.decode()
    assert "<h1>Open orders" in page and "<li>Metric “Open orders” would be 7.</li>" in page


def test_preview_needs_sign_in_membership_csrf_and_a_post(client, outsider, member, failing_chain):
    url = preview_url(failing_chain.metric)
    assert "/accounts/login/" in client.post(url)["Location"]
    assert signed_in(outsider).post(url).status_code == 404
    assert signed_in(member).get(url).status_code == 405
    assert signed_in(member, enforce_csrf_checks=True).post(url).status_code == 403
    assert signed_in(member).post(reverse("web:metric-preview", args=[99999])).status_code == 404


def test_a_preview_costs_the_same_queries_however_many_alerts(member_client, failing_chain):
    url = preview_url(failing_chain.metric)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert member_client.post(url, HTTP_HX_REQUEST="true").status_code == 200
        return len(captured)

    one = queries()
    for number in range(5):
        make_alert(failing_chain.metric, name=f"Alert {number}", threshold=number, workflows=[failing_chain.workflow])
    assert queries() == one
