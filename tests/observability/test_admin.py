"""The trace admin, built for inspecting failures."""
from __future__ import annotations

import json
import re
import uuid

from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lineage.observability.models import ExecutionTrace
from tests.factories import traced_db

pytestmark = traced_db


TRACES = reverse("admin:observability_executiontrace_changelist")


def change_url(trace_id) -> str:
    return reverse("admin:observability_executiontrace_change", args=[trace_id])


def listed_ids(response) -> set[str]:
    return {str(t.id) for t in response.context["cl"].result_list}


def old_trace(org, name="Imported run", trace_id="0190aaaa-0000-7000-8000-000000000001"):
    """A trace from long ago, with an id of its own time."""
    return ExecutionTrace.objects.create(
        id=uuid.UUID(trace_id),
        org=org,
        trace_type="metric",
        source="schedule",
        name=name,
        status="succeeded",
        started_at=timezone.now() - timezone.timedelta(days=400),
    )


def test_trace_list_shows_the_columns_for_inspecting_failures(admin_client, failed_run):
    workflow = failed_run[("workflow", "failed")]
    response = admin_client.get(TRACES)

    assert response.status_code == 200
    html = response.content.decode()
    for header in [
        "Id",
        "Trace type",
        "Name",
        "Status",
        "Organization",
        "Started",
        "Duration",
        "Error",
    ]:
        assert f">{header}</a>" in html or f">{header}</span>" in html
    assert "Connection refused" in html or workflow.error_summary[-20:] in html  # the cause shows
    assert "last 8 digits" in html and "first 8+" not in html
    assert re.search(r"<time title=\"\w{3} \d+, \d{4} [\d:]+ UTC\">", html)  # one time format, with its zone
    assert f'href="{change_url(workflow.id)}">{workflow.short_id}</a>' in html
    assert "Notify on-call" in html and "Acme" in html
    assert listed_ids(response) == {str(t.id) for t in failed_run.values()}


def test_trace_list_query_count_does_not_grow_with_rows(
    admin_client, org, django_assert_num_queries
):
    old_trace(org, "First", "0190aaaa-0000-7000-8000-000000000001")
    with CaptureQueriesContext(connections["default"]) as few:
        admin_client.get(TRACES)
    for n in range(2, 30):
        old_trace(org, f"Run {n}", f"0190aaaa-0000-7000-8000-{n:012d}")
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_client.get(TRACES)
    assert len(response.context["cl"].result_list) == 29


def test_search_by_pasted_id_or_its_first_characters(admin_client, org, failed_run):
    old = old_trace(org)
    workflow = failed_run[("workflow", "failed")]

    by_prefix = admin_client.get(TRACES, {"q": "0190aaaa-0000-7000"})
    assert listed_ids(by_prefix) == {str(old.id)}

    # The short id the pages show (the last 8 digits) finds the trace too.
    assert listed_ids(admin_client.get(TRACES, {"q": workflow.short_id})) == {str(workflow.id)}
    assert listed_ids(admin_client.get(TRACES, {"q": "0190aaaa"})) == {str(old.id)}

    assert listed_ids(admin_client.get(TRACES, {"q": f"  {workflow.id} "})) == {str(workflow.id)}
    assert listed_ids(admin_client.get(TRACES, {"q": str(workflow.id).upper()})) == {
        str(workflow.id)
    }


def test_search_by_name_or_error_text(admin_client, failed_run):
    by_error = admin_client.get(TRACES, {"q": "answered HTTP 500"})
    assert listed_ids(by_error) == {
        str(failed_run[("workflow", "failed")].id),
        str(failed_run[("step", "failed")].id),
    }
    by_name = admin_client.get(TRACES, {"q": "broken"})
    assert listed_ids(by_name) == {str(failed_run[("metric", "failed")].id)}


def test_a_word_that_is_also_hex_finds_names_and_ids(admin_client, org):
    named = old_trace(org, "Facade refresh", "0190aaaa-0000-7000-8000-000000000001")
    ending = old_trace(org, "Other run", "0190aaaa-0000-7000-8000-000000facade")
    assert listed_ids(admin_client.get(TRACES, {"q": "facade"})) == {str(named.id), str(ending.id)}


def test_filters_by_status_type_source_and_organization(admin_client, org, other_org, failed_run):
    old_trace(other_org, "Elsewhere")
    failed_workflows = admin_client.get(
        TRACES, {"status__exact": "failed", "trace_type__exact": "workflow"}
    )
    assert listed_ids(failed_workflows) == {str(failed_run[("workflow", "failed")].id)}

    dependency = admin_client.get(TRACES, {"source__exact": "dependency"})
    assert {t.trace_type for t in dependency.context["cl"].result_list} == {
        "alert",
        "workflow",
        "step",
    }
    acme = admin_client.get(TRACES, {"org__id__exact": org.pk})
    assert len(listed_ids(acme)) == 5
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = admin_client.get(TRACES, {"started_at__gte": str(midnight)})
    assert listed_ids(today) == {str(t.id) for t in failed_run.values()}


def test_trace_page_shows_pretty_json_error_lineage_and_links(admin_client, failed_run):
    workflow = failed_run[("workflow", "failed")]
    step = failed_run[("step", "failed")]
    alert = failed_run[("alert", "succeeded")]

    response = admin_client.get(change_url(workflow.id))

    html = response.content.decode()
    assert response.status_code == 200
    outputs = json.dumps(workflow.outputs, indent=2, sort_keys=True)
    assert f'<pre class="lineage-json">{outputs.replace(chr(34), "&quot;")}</pre>' in html
    assert '"failed_step": {\n' in outputs  # really indented, one key per line
    assert '<pre class="lineage-error">StepFailed: step 1 “Page ops” (webhook) failed' in html
    assert f'href="{change_url(alert.id)}">alert Revenue spike (succeeded)</a>' in html
    assert f'href="{change_url(step.id)}">step Page ops (failed)</a>' in html
    assert f'href="{reverse("web:trace-detail", args=[workflow.id])}">Trace page</a>' in html
    assert (
        f'href="{reverse("web:trace-lineage-svg", args=[workflow.id])}">Lineage graph</a>' in html
    )
    assert 'name="_save"' not in html  # traces are read-only


def test_names_and_values_are_escaped_on_the_trace_page(admin_client, org):
    evil = "<script>alert(1)</script>"
    trace = ExecutionTrace.objects.create(
        org=org,
        trace_type="metric",
        source="manual",
        name=evil,
        inputs={"sql": evil},
        status="failed",
        error=f"ValueError: {evil}",
        started_at=timezone.now(),
    )
    html = admin_client.get(change_url(trace.id)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_traces_cannot_be_added_edited_or_deleted(admin_client, failed_run):
    trace = failed_run[("metric", "failed")]
    assert admin_client.get(reverse("admin:observability_executiontrace_add")).status_code == 403
    assert admin_client.post(change_url(trace.id), {"name": "changed"}).status_code == 403
    delete = reverse("admin:observability_executiontrace_delete", args=[trace.id])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    trace.refresh_from_db()
    assert trace.name == "Broken"
