from __future__ import annotations

import json
import uuid

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lineage.alerts.models import AlertRule
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.workflows.models import Workflow
from tests.factories import make_chain, make_metric, make_user, make_workflow, traced_db

pytestmark = traced_db

TRACES = reverse("admin:observability_executiontrace_changelist")


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def failed_run(org, webhook_receiver):
    """A scheduled chain whose workflow failed at its webhook step, and a
    metric whose query failed: traces by type and status."""
    webhook_receiver.status = 500
    metric, _, workflow = make_chain(
        org, steps=[("webhook", "Page ops", {"url": webhook_receiver.url})]
    )
    run_metric_execution(metric, source="schedule")
    run_metric_execution(make_metric(org, name="Broken", sql="SELECT 1/0"), source="schedule")
    traces = {(t.trace_type, t.status, t.name): t for t in ExecutionTrace.objects.filter(org=org)}
    assert set(traces) == {
        ("metric", "succeeded", "Daily revenue"),
        ("alert", "succeeded", "Revenue spike"),
        ("workflow", "failed", "Notify on-call"),
        ("step", "failed", "Page ops"),
        ("metric", "failed", "Broken"),
    }
    return {(kind, status): t for (kind, status, _), t in traces.items()}


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


# --- Traces -----------------------------------------------------------------


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
        "Source",
        "Organization",
        "Started at",
        "Duration",
    ]:
        assert f">{header}</a>" in html or f">{header}</span>" in html
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


def rerun(client, *traces):
    return client.post(
        TRACES,
        {"action": "rerun_failed", "index": "0", "_selected_action": [str(t.id) for t in traces]},
        follow=True,
    )


def test_rerun_starts_manual_runs_caused_by_the_failures(admin_client, org, failed_run):
    workflow = failed_run[("workflow", "failed")]
    metric = failed_run[("metric", "failed")]

    response = rerun(admin_client, workflow, metric)

    again = ExecutionTrace.objects.filter(org=org, source="manual")
    assert {(t.trace_type, t.name) for t in again} == {
        ("workflow", "Notify on-call"),
        ("metric", "Broken"),
    }
    for trace in again:
        assert trace.dependencies == [workflow.id if trace.trace_type == "workflow" else metric.id]
    # The workflow re-ran with the failed run's context (metric and value).
    rerun_workflow = again.get(trace_type="workflow")
    assert rerun_workflow.inputs["context"]["value"] == workflow.inputs["context"]["value"]
    html = response.content.decode()
    assert "Re-ran 2 failed run(s): " in html
    assert f'href="{change_url(rerun_workflow.id)}">Notify on-call</a>' in html


def test_rerun_skips_what_did_not_fail_or_cannot_run_alone(admin_client, org, failed_run):
    succeeded = failed_run[("metric", "succeeded")]
    step = failed_run[("step", "failed")]
    workflow = failed_run[("workflow", "failed")]
    Workflow.objects.filter(name="Notify on-call").delete()

    response = rerun(admin_client, succeeded, step, workflow)

    assert not ExecutionTrace.objects.filter(org=org, source="manual").exists()
    html = response.content.decode()
    assert "Skipped 3 trace(s): " in html
    assert "Metric “Daily revenue”: it succeeded; only failed runs are re-run" in html
    assert "Step “Page ops”: a step is not re-run on its own" in html
    assert (
        f"Workflow “Notify on-call”: its workflow (workflow:{workflow.subject[9:]}) was deleted"
        in html
    )
    assert "Re-ran" not in html


def test_rerun_needs_more_than_view_permission(client, org, failed_run):
    from django.contrib.auth.models import Permission

    viewer = make_user("auditor", org, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_executiontrace"))
    client.force_login(viewer)

    assert client.get(TRACES).status_code == 200
    assert "rerun_failed" not in client.get(TRACES).content.decode()
    rerun(client, failed_run[("metric", "failed")])
    assert not ExecutionTrace.objects.filter(source="manual").exists()


# --- Definitions ------------------------------------------------------------


def metric_form(org, **changes):
    data = {
        "organization": org.pk,
        "name": "Signups",
        "kind": "sql",
        "sql": "SELECT count(*) FROM auth_user",
        "python_path": "",
        "schedule": "*/5 * * * *",
        "enabled": "on",
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"schedule": "every day"}, "schedule", "“every day” is not a valid cron expression"),
        ({"schedule": "61 * * * *"}, "schedule", "is not a valid cron expression"),
        (
            {"sql": "SELECT 1; DELETE FROM auth_user"},
            "sql",
            "A metric query must be exactly one SELECT statement; found 2.",
        ),
        ({"sql": "DELETE FROM auth_user"}, "sql", "must be a SELECT statement, not DELETE"),
        ({"sql": "  "}, "sql", "An SQL metric needs a query."),
    ],
)
def test_metric_admin_shows_bad_definitions_as_form_errors(
    admin_client, org, changes, field, message
):
    response = admin_client.post(reverse("admin:metrics_metric_add"), metric_form(org, **changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field])
    assert message.replace("“", "&ldquo;") in response.content.decode() or (
        message in response.content.decode()
    )
    assert not Metric.objects.filter(name="Signups").exists()


def test_metric_admin_saves_a_valid_metric_and_lists_values_read_only(admin_client, org):
    response = admin_client.post(reverse("admin:metrics_metric_add"), metric_form(org))
    assert response.status_code == 302
    metric = Metric.objects.get(name="Signups")
    assert metric.next_run_at is not None
    run_metric_execution(metric)

    values = admin_client.get(reverse("admin:metrics_metricvalue_changelist"))
    assert values.status_code == 200
    assert "Signups" in values.content.decode()
    assert admin_client.get(reverse("admin:metrics_metricvalue_add")).status_code == 403


def alert_form(org, metric, **changes):
    data = {
        "organization": org.pk,
        "name": "Too many",
        "metric": metric.pk,
        "operator": ">",
        "threshold": "5",
        "severity": "warning",
        "enabled": "on",
    }
    return {**data, **changes}


def test_alert_admin_rejects_an_operator_outside_the_list(admin_client, org):
    metric = make_metric(org)
    url = reverse("admin:alerts_alertrule_add")

    response = admin_client.post(url, alert_form(org, metric, operator="=>"))

    assert response.context["adminform"].form.errors["operator"] == [
        "Select a valid choice. => is not one of the available choices."
    ]
    assert admin_client.post(url, alert_form(org, metric)).status_code == 302
    assert AlertRule.objects.get(name="Too many").operator == ">"


def test_alert_admin_rejects_another_organizations_metric(admin_client, org, other_org):
    foreign = make_metric(other_org, name="Their revenue")
    response = admin_client.post(reverse("admin:alerts_alertrule_add"), alert_form(org, foreign))
    assert response.context["adminform"].form.errors["metric"] == [
        "“Their revenue” belongs to another organization."
    ]


def workflow_form(org, steps, name="Escalate"):
    data = {
        "organization": org.pk,
        "name": name,
        "enabled": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, (kind, step_name, config) in enumerate(steps):
        data.update(
            {
                f"steps-{i}-position": str(i + 1),
                f"steps-{i}-name": step_name,
                f"steps-{i}-kind": kind,
                f"steps-{i}-config": json.dumps(config),
            }
        )
    return data


def step_errors(response) -> list[str]:
    (formset,) = response.context["inline_admin_formsets"]
    return [error for form in formset.formset.forms for error in form.errors.get("config", [])]


@pytest.mark.parametrize(
    "kind, config, message",
    [
        ("webhook", {"url": "ftp://example.com/x"}, 'A webhook step needs "url": an http://'),
        ("webhook", {}, 'A webhook step needs "url"'),
        ("webhook", {"url": "https://x.test", "timeout": -1}, '"timeout" must be a positive'),
        ("email", {"subject": "hi"}, 'An e-mail step needs "to"'),
        ("email", {"to": ["ops@example.com", "not an address"]}, "invalid address: 'not an"),
        ("run_metric", {}, 'A run_metric step needs "metric"'),
        ("run_metric", {"metric": "Nope"}, "There is no metric named “Nope” in Acme."),
        ("log", ["not", "an", "object"], "The config must be a JSON object"),
        ("log", {"message": "a\x00b"}, "cannot contain a NUL character"),
        ("webhook", {"url": "https://x.test", "headers": {"X-\x00": "1"}}, "NUL character"),
    ],
)
def test_workflow_admin_checks_each_steps_config(admin_client, org, kind, config, message):
    response = admin_client.post(
        reverse("admin:workflows_workflow_add"), workflow_form(org, [(kind, "Do it", config)])
    )
    assert response.status_code == 200
    assert any(message in error for error in step_errors(response))
    assert not Workflow.objects.filter(name="Escalate").exists()


def test_run_metric_step_must_name_a_metric_of_the_workflows_organization(
    admin_client, org, other_org
):
    make_metric(other_org, name="Their revenue")
    workflow = make_workflow(org, name="Existing", steps=[])
    url = reverse("admin:workflows_workflow_change", args=[workflow.pk])
    data = workflow_form(
        org, [("run_metric", "Recompute", {"metric": "Their revenue"})], "Existing"
    )

    response = admin_client.post(url, data)

    assert step_errors(response) == ["There is no metric named “Their revenue” in Acme."]
    make_metric(org, name="Their revenue")
    assert admin_client.post(url, data).status_code == 302
    assert [s.kind for s in workflow.steps.all()] == ["run_metric"]


def test_workflow_admin_saves_valid_steps_in_order(admin_client, org):
    make_metric(org, name="Open orders")
    steps = [
        ("webhook", "Page ops", {"url": "https://hooks.example.com/ops"}),
        ("email", "Mail", {"to": "ops@example.com", "subject": "$workflow"}),
        ("run_metric", "Recount", {"metric": "Open orders"}),
    ]
    response = admin_client.post(reverse("admin:workflows_workflow_add"), workflow_form(org, steps))
    assert response.status_code == 302
    workflow = Workflow.objects.get(name="Escalate")
    assert [(s.position, s.name) for s in workflow.steps.all()] == [
        (1, "Page ops"),
        (2, "Mail"),
        (3, "Recount"),
    ]
    page = admin_client.get(reverse("admin:workflows_workflow_change", args=[workflow.pk]))
    html = page.content.decode()
    assert html.index("Page ops") < html.index("Mail") < html.index("Recount")


def test_organization_admin_edits_memberships_inline(admin_client, org, member):
    page = admin_client.get(reverse("admin:tenancy_organization_change", args=[org.pk]))
    assert page.status_code == 200
    assert 'name="memberships-0-role"' in page.content.decode()
    listing = admin_client.get(reverse("admin:tenancy_organization_changelist"))
    assert listing.status_code == 200
    assert [o.member_total for o in listing.context["cl"].result_list] == [2]


def test_admin_is_for_staff_only(client, member):
    client.force_login(member)
    response = client.get(TRACES)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
