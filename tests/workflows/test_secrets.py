"""A webhook's secrets never show: a token or credentials in its URL are
masked (***) on every surface, and secret headers are sent but never shown."""
from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from lineage.observability.models import ExecutionTrace
from lineage.observability.redaction import redact
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Step
from tests.factories import make_workflow, run_command, traced_db

pytestmark = traced_db

SECRETS = ["hunter2", "tok-abc123", "sig-999", "s3cr3t-bearer-value"]


@pytest.fixture
def leaky_run(org, webhook_receiver):
    """A failed webhook step whose URL carries credentials and a token, and
    which sends a secret Authorization header."""
    webhook_receiver.status = 500
    port = webhook_receiver.server.server_address[1]
    url = f"http://ops:hunter2@127.0.0.1:{port}/hook?token=tok-abc123&X-Amz-Signature=sig-999&team=ops"
    workflow = make_workflow(org, name="Page ops", steps=[("webhook", "Page", {"url": url})])
    Step.objects.filter(workflow=workflow).update(
        secret_headers={"Authorization": "Bearer s3cr3t-bearer-value"}
    )
    run = run_workflow(workflow)
    assert not run.succeeded
    return workflow, run


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "***" in text


def test_the_secret_header_is_sent_and_the_url_credentials_as_basic_auth(leaky_run, webhook_receiver):
    [request] = webhook_receiver.requests
    assert request["headers"]["Authorization"] == "Bearer s3cr3t-bearer-value"
    assert "token=tok-abc123" in request["path"]


def test_traces_and_errors_are_stored_masked(leaky_run):
    for trace in ExecutionTrace.objects.all():
        stored = f"{trace.name} {trace.inputs} {trace.outputs} {trace.error}"
        for secret in SECRETS:
            assert secret not in stored
    step = ExecutionTrace.objects.get(trace_type="step")
    assert "http://***@127.0.0.1:" in step.error_summary
    assert "?token=***&X-Amz-Signature=***&team=ops answered HTTP 500" in step.error_summary


def test_no_page_shows_a_secret(client, member, leaky_run):
    workflow, run = leaky_run
    client.force_login(member)
    step = ExecutionTrace.objects.get(trace_type="step")
    pages = [
        reverse("web:trace-detail", args=[step.id]),
        reverse("web:trace-detail", args=[run.trace_id]),
        reverse("web:workflow-detail", args=[workflow.pk]),
        reverse("web:failures"),
        reverse("web:trace-list") + "?q=ops",
        reverse("web:ask") + "?q=why+did+page+ops+fail",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_no_secret(response.content.decode())


def test_the_admin_masks_the_config_and_only_says_a_secret_is_set(admin_client, leaky_run):
    workflow, run = leaky_run
    step = ExecutionTrace.objects.get(trace_type="step")
    for page in [
        reverse("admin:observability_executiontrace_change", args=[step.id]),
        reverse("admin:observability_executiontrace_change", args=[run.trace_id]),
        reverse("admin:workflows_workflow_change", args=[workflow.pk]),
    ]:
        assert_no_secret(admin_client.get(page).content.decode())
    assert "Authorization (set)" in admin_client.get(
        reverse("admin:workflows_workflow_change", args=[workflow.pk])
    ).content.decode()


def test_saving_the_masked_config_keeps_the_secrets(admin_client, leaky_run):
    workflow, _ = leaky_run
    url = reverse("admin:workflows_workflow_change", args=[workflow.pk])
    form = admin_client.get(url).context["adminform"].form
    inline = admin_client.get(url).context["inline_admin_formsets"][0].formset
    data = {
        "organization": workflow.organization_id,
        "name": workflow.name,
        "enabled": "on",
        **{f"steps-{key}": value for key, value in inline.management_form.initial.items()},
    }
    step_form = inline.forms[0]
    data.update(
        {
            "steps-0-id": step_form.instance.pk,
            "steps-0-workflow": workflow.pk,
            "steps-0-position": "1",
            "steps-0-name": "Page",
            "steps-0-kind": "webhook",
            "steps-0-config": step_form["config"].value(),
            "steps-0-secret_headers_text": "X-Extra-Token: more-secret",
        }
    )
    assert "***" in data["steps-0-config"] and form is not None

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    step = Step.objects.get(workflow=workflow)
    assert "ops:hunter2@" in step.config["url"] and "token=tok-abc123" in step.config["url"]
    assert step.secret_headers == {
        "Authorization": "Bearer s3cr3t-bearer-value",
        "X-Extra-Token": "more-secret",
    }


def test_a_credential_header_in_the_plain_config_is_refused(admin_client, org, webhook_receiver):
    from tests.workflows.test_admin import step_errors, workflow_form

    config = {"url": webhook_receiver.url, "headers": {"Authorization": "Bearer x"}}
    response = admin_client.post(
        reverse("admin:workflows_workflow_add"), workflow_form(org, [("webhook", "Call", config)])
    )
    assert any("put it in the step's secret headers" in e for e in step_errors(response))


def test_terminal_commands_and_answers_show_no_secret(org, leaky_run):
    workflow, run = leaky_run
    assert_no_secret(run_command("traces", "--org", org.slug))
    assert_no_secret(run_command("explain", str(run.trace_id)))
    assert_no_secret(run_command("ask", "why did page ops fail?", "--org", org.slug))
    assert_no_secret(run_command("run_workflow", "Page ops", "--org", org.slug))
    assert_no_secret(run_command("lineage", str(run.trace_id), "--format", "json"))


def test_log_lines_are_masked():
    handler = logging.getLogger("lineage").handlers[0]
    record = logging.LogRecord(
        "lineage.workflows", logging.WARNING, __file__, 1, "POST %s failed", ("https://u:hunter2@x.example/?key=tok-abc123",), None
    )
    handler.filter(record)
    assert record.getMessage() == "POST https://***@x.example/?key=*** failed"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://user:pw@host/x", "https://***@host/x"),
        ("https://TOKEN@github.com/o/r", "https://***@github.com/o/r"),
        ("/hook?access_token=a1&page=2", "/hook?access_token=***&page=2"),
        ("/hook?api_key=a1;monkey=banana", "/hook?api_key=***;monkey=banana"),
        ("Authorization: Bearer abcdef123456", "Authorization: Bearer ***"),
        ('{"url": "https://h/?secret=a\\"b"}', '{"url": "https://h/?secret=***\\"b"}'),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_one_redaction_for_everything(text, masked):
    assert redact(text) == masked


def test_what_exporters_are_told_is_masked_as_the_stored_row_is():
    from django.utils import timezone

    from lineage.observability.ids import uuid7
    from lineage.observability.listeners import TraceRecord

    record = TraceRecord(
        uuid7(), 1, "step", "Call https://ops:hunter2@x.example", "", "manual",
        {"config": {"url": "https://x.example/?token=tok-abc123"}}, (), timezone.now(),
        error="StepError: POST https://x.example/?sig=sig-999 failed",
    )
    assert_no_secret(f"{record.name} {dict(record.inputs)} {record.error}")
