"""The Content-Security-Policy in a real browser: the dashboard and the admin
work under it with no violation."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Organization
from lineage.workflows.models import Workflow
from tests.e2e.conftest import sign_in
from tests.factories import make_user, traced_db

pytestmark = traced_db


def watch(page: Page) -> list[str]:
    problems: list[str] = []
    # A failed load is told by the response below (the admin has no favicon).
    page.on(
        "console",
        lambda msg: msg.type in {"error", "warning"}
        and not msg.text.startswith("Failed to load resource")
        and problems.append(msg.text),
    )
    page.on(
        "response",
        lambda response: response.status >= 400
        and not response.url.endswith("/favicon.ico")
        and problems.append(f"{response.status} {response.url}"),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: "text/html" in response.headers.get("content-type", "")
        and "script-src 'self'" not in response.headers.get("content-security-policy", "")
        and problems.append(f"no CSP on {response.url}"),
    )
    return problems


def test_dashboard_pages_run_under_the_policy(page: Page, demo):
    problems = watch(page)
    sign_in(page, demo.url)
    workflow = ExecutionTrace.objects.filter(trace_type="workflow", status="failed").first()
    for path in ["/", "/failures/", "/metrics/", "/alerts/", "/workflows/", f"/traces/{workflow.id}/"]:
        page.goto(demo.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("#lineage-graph svg g.node").first).to_be_visible()  # htmx swapped it in
    page.goto(demo.url + "/ask/?q=what+failed+today")
    expect(page.locator("main")).to_contain_text("Page ops")
    assert problems == []


def test_the_admin_works_under_the_policy(page: Page, demo):
    # An administrator as the README makes one: a superuser who belongs to acme.
    acme = Organization.objects.get(slug="acme")
    make_user("root", acme, role="owner", is_staff=True, is_superuser=True)
    problems = watch(page)
    sign_in(page, demo.url, "root", "pw")
    page.goto(demo.url + "/admin/alerts/alertrule/add/")
    # filter_horizontal's two boxes are drawn by the admin's JavaScript.
    expect(page.locator("#id_workflows_from")).to_be_visible()
    workflow = Workflow.objects.get(name="Page ops")
    page.goto(demo.url + f"/admin/workflows/workflow/{workflow.pk}/change/")
    page.get_by_text("Add another Step").click()
    expect(page.locator("#steps-2")).to_be_visible()
    page.goto(demo.url + "/admin/observability/executiontrace/?status__exact=failed")
    expect(page.locator("#result_list")).to_contain_text("Page ops")
    assert problems == []
