from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

import tests.metrics.sample_metrics  # noqa: F401  (registers the tests' Python metrics)
from lineage.assistant.planner import AskContext
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.metrics.sandbox import drop_roles
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Membership, Organization
from tests.factories import make_chain, make_metric, make_org, make_user


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, and afterwards its metric roles dropped: roles are
    global to the server, the database is not."""
    yield
    with django_db_blocker.unblock():
        drop_roles()


@pytest.fixture
def org(db):
    return make_org("acme", "Acme")


@pytest.fixture
def other_org(db):
    return make_org("globex", "Globex")


@pytest.fixture
def member(org):
    """A member of acme who may start runs."""
    return make_user("member", org, role="editor")


@pytest.fixture
def viewer(org):
    """A member of acme who may only look."""
    return make_user("viewer", org, role="viewer")


@pytest.fixture
def outsider(other_org):
    """A member of another organization."""
    return make_user("outsider", other_org, role="editor")


@pytest.fixture
def staff(org):
    return make_user("staff", org, role="owner", is_staff=True, is_superuser=True)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and hung up is what some tests want


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver(settings):
    """A receiver the webhook policy allows, as an operator would
    (LINEAGE_WEBHOOK_ALLOWED_HOSTS=127.0.0.1:PORT)."""
    receiver = WebhookReceiver()
    port = receiver.server.server_address[1]
    settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS = [*settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS, f"127.0.0.1:{port}"]
    yield receiver
    receiver.close()


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


@pytest.fixture(autouse=True)
def demo_webhook_allowed(settings):
    """The demo's webhook fails with "Connection refused" on 127.0.0.1:9, as
    with `make run` (DEBUG on allows that port); anything else loopback is
    refused unless a test allows it."""
    settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1:9"]


@pytest.fixture
def demo(db):
    """The seeded demo organization plus a second "Daily …" metric, so that
    "daily" alone is ambiguous."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    acme = Organization.objects.get(slug="acme")
    Metric.objects.create(organization=acme, name="Daily refunds", sql="SELECT 3", schedule="")
    return acme


@pytest.fixture
def ctx(demo):
    return AskContext(organization=demo, org_ids=[demo.pk], can_run=True)


@pytest.fixture
def demo_user(demo):
    return Membership.objects.get(organization=demo).user


@pytest.fixture
def seeded(db):
    """The README's demo organization, as `seed_demo` makes it."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    return Organization.objects.get(slug="acme")
