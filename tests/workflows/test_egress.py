"""Webhooks reach public addresses only (unless an operator allows a host),
on the address that was checked, without redirects, within a capped time."""
from __future__ import annotations

import http.server
import threading

import pytest
from django.urls import reverse

from lineage.observability.models import ExecutionTrace
from lineage.workflows import egress
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Workflow
from tests.factories import make_workflow, traced_db
from tests.workflows.test_admin import step_errors, workflow_form

pytestmark = traced_db

REFUSED = {
    "http://127.0.0.1:8000/hook": "127.0.0.1 is a loopback address",
    "http://localhost:8000/hook": "localhost (127.0.0.1) is a loopback address",
    "http://[::1]:8000/hook": "::1 is a loopback address",
    "http://0.0.0.0/hook": "0.0.0.0 is an unspecified address",
    "http://10.0.0.1/hook": "10.0.0.1 is a private address",
    "http://192.168.1.20/hook": "192.168.1.20 is a private address",
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
    "http://100.64.0.1/hook": "100.64.0.1 is not a public address",
    "http://224.0.0.1/hook": "224.0.0.1 is a multicast address",
    "http://240.0.0.1/hook": "240.0.0.1 is a reserved address",
    "http://2130706433/hook": "2130706433 (127.0.0.1) is a loopback address",
    "http://0x7f.0.0.1/hook": "0x7f.0.0.1 (127.0.0.1) is a loopback address",
    "http://0177.0.0.1/hook": "0177.0.0.1 (127.0.0.1) is a loopback address",
    "http://127.1/hook": "127.1 (127.0.0.1) is a loopback address",
    "http://[::ffff:169.254.169.254]/hook": "is a link-local address",
    "http://[2002:a00:1::]/hook": "is a private address",  # 6to4 around 10.0.0.1
    "http://[64:ff9b::7f00:1]/hook": "is a loopback address",  # NAT64 around 127.0.0.1
    "http://[fe80::1]/hook": "fe80::1 is a link-local address",
    "http://[fd00::1]/hook": "fd00::1 is a private address",
    "ftp://example.com/x": 'A webhook step needs "url": an http:// or https:// address.',
    "file:///etc/passwd": 'A webhook step needs "url": an http:// or https:// address.',
}


def test_a_webhook_to_a_non_public_address_is_a_failed_step_that_says_why(org):
    for number, (url, reason) in enumerate(REFUSED.items()):
        workflow = make_workflow(org, name=f"Call {number}", steps=[("webhook", "Call", {"url": url})])
        run = run_workflow(workflow)

        step = ExecutionTrace.objects.get(trace_type="step", dependencies__contains=[run.trace_id])
        assert not run.succeeded and step.status == "failed", url
        assert reason in step.error_summary, url
        assert step.error_summary.startswith("StepError: "), url


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), list(REFUSED.items())[:4] + list(REFUSED.items())[10:12])
def test_the_admin_form_says_why_before_saving(admin_client, org, url, reason):
    response = admin_client.post(
        reverse("admin:workflows_workflow_add"), workflow_form(org, [("webhook", "Call", {"url": url})])
    )
    assert any(reason in error and "would not be called" in error for error in step_errors(response))
    assert not Workflow.objects.exists()


def test_a_timeout_over_thirty_seconds_is_refused_in_the_form_and_at_run_time(
    admin_client, org, webhook_receiver
):
    for number, timeout in enumerate([1e9, 31, 0, -1, "10", True]):
        config = {"url": webhook_receiver.url, "timeout": timeout}
        response = admin_client.post(
            reverse("admin:workflows_workflow_add"), workflow_form(org, [("webhook", "Call", config)])
        )
        errors = step_errors(response)
        assert any('"timeout" must be a positive number of seconds' in e for e in errors), timeout

        workflow = make_workflow(org, name=f"Slow {number}", steps=[("webhook", "Call", config)])
        assert '"timeout" must be a positive number of seconds' in run_workflow(workflow).error
    assert webhook_receiver.requests == []


def test_an_allowed_host_is_called_and_its_short_reply_kept(org, webhook_receiver):
    run = run_workflow(make_workflow(org, steps=[("webhook", "Call", {"url": webhook_receiver.url})]))

    assert run.succeeded
    step = ExecutionTrace.objects.get(trace_type="step")
    assert step.outputs["response"] == '{"ok": true}'
    assert webhook_receiver.requests[0]["headers"]["Host"].startswith("127.0.0.1:")


def test_a_host_is_allowed_by_name_and_port_only(org, webhook_receiver, settings):
    port = webhook_receiver.server.server_address[1]
    url = f"http://localhost:{port}/hook"
    settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS = [f"localhost:{port + 1}"]
    refused = run_workflow(make_workflow(org, name="Refused", steps=[("webhook", "Call", {"url": url})]))
    assert "is a loopback address" in refused.error

    settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS = [f"localhost:{port}"]
    assert run_workflow(make_workflow(org, steps=[("webhook", "Call", {"url": url})])).succeeded
    assert webhook_receiver.requests[0]["headers"]["Host"] == f"localhost:{port}"


class _Redirector(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_redirect_is_not_followed(org, webhook_receiver, settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    _Redirector.target = webhook_receiver.url  # another local port, as an attacker would
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    try:
        run = run_workflow(
            make_workflow(org, steps=[("webhook", "Call", {"url": f"http://127.0.0.1:{port}/x"})])
        )
    finally:
        server.shutdown()
        server.server_close()

    assert "answered HTTP 302 Found (redirects are not followed)" in run.error
    assert webhook_receiver.requests == []


def test_the_connection_goes_to_the_checked_address_never_a_second_lookup(webhook_receiver):
    """Pinned: a host name that resolves to nothing now is still reached at the
    address checked before, with its own name in the Host header."""
    port = webhook_receiver.server.server_address[1]
    target = egress.Target(
        "http", "hooks.invalid", port, "/hook", None, addresses=("127.0.0.1",), allowed=False
    )
    reply = egress.post_json(target, b'{"a": 1}', {"Content-Type": "application/json"}, 5)

    assert reply.status == 200
    assert reply.body == ""  # a host not allowed by name: its reply is never kept
    assert webhook_receiver.requests[0]["headers"]["Host"] == f"hooks.invalid:{port}"


def test_a_slow_server_is_cut_off_at_the_timeout(org, webhook_receiver):
    webhook_receiver.delay = 3
    config = {"url": webhook_receiver.url, "timeout": 0.5}
    run = run_workflow(make_workflow(org, steps=[("webhook", "Call", config)]))
    assert f"POST {webhook_receiver.url} timed out after 0.5 s" in run.error
