"""The trace admin's Re-run action."""
from __future__ import annotations

from django.urls import reverse

from lineage.observability.models import ExecutionTrace
from lineage.workflows.models import Workflow
from tests.factories import make_user, traced_db

pytestmark = traced_db


TRACES = reverse("admin:observability_executiontrace_changelist")


def change_url(trace_id) -> str:
    return reverse("admin:observability_executiontrace_change", args=[trace_id])


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
