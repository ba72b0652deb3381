"""The workflow admin, with each step kind's config checked."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from lineage.workflows.models import Workflow
from tests.factories import make_metric, make_workflow, traced_db

pytestmark = traced_db


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
