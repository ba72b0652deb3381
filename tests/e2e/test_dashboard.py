"""The issue's walk through the dashboard, in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from lineage.observability.models import ExecutionTrace
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import traced_db

pytestmark = traced_db


def test_failed_run_is_explained_and_its_lineage_leads_to_the_alert(page: Page, demo):
    sign_in(page, demo.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Failures").click()
    expect(page.get_by_role("heading", name="Failures")).to_be_visible()

    page.get_by_role("link", name="Page ops", exact=True).first.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Page ops")
    explanation = page.locator("#explanation")
    expect(explanation).to_contain_text("Open orders")
    expect(explanation).to_contain_text("Orders piling up")
    expect(explanation).to_contain_text("Page the ops channel")
    expect(explanation).to_contain_text("failed at step 1")

    nodes = page.locator("#lineage-graph svg g.node")
    expect(nodes.first).to_be_visible()
    assert nodes.count() >= 3
    alert = ExecutionTrace.objects.get(trace_type="alert", name="Orders piling up")

    page.locator("#lineage-graph svg g.node", has_text="Orders piling up").locator("a").click()

    page.wait_for_url(re.compile(rf"/traces/{alert.id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orders piling up")
    expect(page.locator("#explanation")).to_contain_text("Open orders")


def test_changing_a_filter_swaps_the_table_and_the_url_without_a_reload(page: Page, demo):
    sign_in(page, demo.url)
    page.get_by_role("link", name="Every trace").click()
    rows = page.locator("#trace-table tr.trace-row")
    expect(rows.first).to_be_visible()
    assert page.locator('#trace-table tr.trace-row[data-status="succeeded"]').count() > 0
    page.evaluate("window.marker = 'still here'")

    page.get_by_label("Status").select_option("failed")

    page.wait_for_url(re.compile(r"[?&]status=failed"))
    expect(page.locator('#trace-table tr.trace-row[data-status="succeeded"]')).to_have_count(0)
    expect(rows).to_have_count(2)  # the Page ops workflow and its failed step
    assert page.evaluate("window.marker") == "still here"

    # The pushed URL is a link that works on its own, without JavaScript.
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("failed")
    expect(rows).to_have_count(2)


def test_editor_runs_a_workflow_by_hand_and_lands_on_its_trace(page: Page, demo):
    sign_in(page, demo.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name="Notify on-call").click()

    page.get_by_role("button", name="Run now").click()

    page.wait_for_url(re.compile(r"/traces/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Notify on-call")
    expect(page.locator(".trace-header")).to_contain_text("Manual")
    expect(page.locator("#explanation")).to_contain_text("when demo started it by hand")
    expect(page.locator("#steps li.step-row")).to_have_count(2)


def test_a_failed_run_is_rerun_from_its_page_and_the_new_run_says_why(page: Page, demo):
    failed = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    sign_in(page, demo.url)
    page.goto(f"{demo.url}/traces/{failed.id}/")
    expect(page.locator("#steps li.step-row.not-run")).to_contain_text("Log the page")

    page.get_by_role("button", name="Re-run").click()

    page.wait_for_url(lambda url: "/traces/" in url and str(failed.id) not in url)
    expect(page.locator(".trace-header")).to_contain_text("Manual")
    expect(page.locator("#explanation")).to_contain_text("re-run by hand by demo after its run at")
    expect(page.locator("#explanation").get_by_role("link", name="Page ops")).to_have_attribute(
        "href", f"/traces/{failed.id}/"
    )
    page.screenshot(path=SCREENSHOTS / "rerun-from-the-trace-page.png", full_page=True)


def test_every_page_loads_without_browser_errors(page: Page, demo, request):
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: response.status >= 400 and problems.append(f"{response.status} {response.url}"),
    )
    sign_in(page, demo.url)
    nav = page.get_by_role("navigation", name="Main")
    for section, first_link in [
        ("Failures", "Page ops"),
        ("Metrics", "Open orders"),
        ("Alerts", "Orders piling up"),
        ("Workflows", "Page ops"),
    ]:
        nav.get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(section)
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}-{section.lower()}.png", full_page=True)
        page.get_by_role("link", name=first_link, exact=True).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(first_link)
        page.screenshot(
            path=SCREENSHOTS / f"{request.node.name}-{section.lower()}-detail.png", full_page=True
        )
    assert problems == []
