"""A wide lineage, phones, keyboards and colour schemes, in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from lineage.alerts.models import AlertRule
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Organization
from lineage.workflows.models import Workflow
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import make_trace, traced_db

pytestmark = traced_db


def hundred_node_run(org) -> ExecutionTrace:
    """A metric whose 15 alerts (12 fired) started 12 workflows of 72 steps:
    100 traces, 4 workflows failed."""
    metric = make_trace(org, "Queue depth", outputs={"value": 900})
    for n in range(3):
        make_trace(org, f"Quiet {n}", trace_type="alert", source="dependency",
                   dependencies=[metric.id], outputs={"fired": False, "margin": -5})
    for n in range(12):
        alert = make_trace(org, f"Queue alert {n}", trace_type="alert", source="dependency",
                           dependencies=[metric.id], outputs={"fired": True, "margin": 5})
        failed = n < 4
        workflow = make_trace(org, f"Drain {n}", trace_type="workflow", source="dependency",
                              dependencies=[alert.id], status="failed" if failed else "succeeded")
        for s in range(2 if failed else 8):
            make_trace(org, f"Drain {n} step {s}", trace_type="step", source="dependency",
                       dependencies=[workflow.id], status="failed" if failed and s == 1 else "succeeded")
    return metric


def label_px(page: Page) -> float:
    """The smallest on-screen font size of a node label, in px."""
    return page.evaluate(
        """() => {
            const svg = document.querySelector('#lineage-graph svg');
            const scale = svg.getScreenCTM().a;
            return Math.min(...[...svg.querySelectorAll('g.node text')].map(
                t => parseFloat(getComputedStyle(t).fontSize) * scale));
        }"""
    )


def test_a_hundred_node_lineage_folds_siblings_and_stays_readable(page: Page, demo):
    root = hundred_node_run(Organization.objects.get(slug="acme"))
    sign_in(page, demo.url)
    page.goto(f"{demo.url}/traces/{root.id}/")

    graph = page.locator("#lineage-graph")
    expect(graph.locator(".graph-summary")).to_have_text("0 causes, 99 effects, 8 failed")
    folds = graph.locator("g.node.fold")
    expect(folds.filter(has_text="12 alerts fired ▸")).to_have_count(1)
    expect(folds.filter(has_text="4 workflows failed ▸")).to_have_count(1)
    assert graph.locator("g.node").count() <= 10
    page.get_by_role("button", name="Fit").click()
    assert label_px(page) >= 11
    # One tab stop for the whole graph.
    viewport = graph.locator("[data-graph-viewport]")
    assert viewport.get_attribute("tabindex") == "0"
    assert viewport.locator('a:not([tabindex="-1"]), [tabindex="0"]').count() == 0
    page.screenshot(path=SCREENSHOTS / "lineage-100-nodes-folded.png", full_page=True)

    folds.filter(has_text="12 alerts fired ▸").locator("a").click()

    expect(graph.locator("g.node", has_text="Queue alert 11")).to_have_count(1)
    expect(graph.get_by_role("link", name="Fold siblings")).to_be_visible()
    page.get_by_role("button", name="Fit").click()
    assert label_px(page) >= 11
    page.get_by_role("button", name="100 %").click()
    assert abs(label_px(page) - 12) < 0.5


def slug(path: str) -> str:
    if path.startswith("/traces/"):
        return "trace-page"
    path = re.sub(r"/\d+/", "/page/", path)  # /metrics/6/ → metrics-page
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:40] or "traces"


def definition_pages() -> list[str]:
    """The demo's Open orders chain: its metric, alert and workflow pages."""
    return [
        f"/metrics/{Metric.objects.get(name='Open orders').pk}/",
        f"/alerts/{AlertRule.objects.get(name='Orders piling up').pk}/",
        f"/workflows/{Workflow.objects.get(name='Page ops').pk}/",
    ]


def visit(page: Page, url: str) -> None:
    """Open a page as a reader sees it: a trace page once its graph is in."""
    page.goto(url)
    if "/traces/" in url:
        page.locator("#lineage-graph svg").wait_for()


PAGES = ["/", "/?view=traces", "/failures/", "/metrics/", "/alerts/", "/workflows/", "/ask/", "/no-such-page/"]


def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, demo.url)
        page_ops = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
        paths = [*PAGES, *definition_pages(), f"/traces/{page_ops.id}/"]
        for number, path in enumerate(paths):
            visit(page, demo.url + path)
            if "no-such-page" not in path:
                expect(page.get_by_role("heading", name="Nothing here")).to_have_count(0)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide"
            page.screenshot(path=SCREENSHOTS / f"390x844-{number:02d}-{slug(path)}.png", full_page=True)
        # The navigation folds behind a menu button.
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
        expect(nav.get_by_role("link", name="Failures")).to_be_visible()
    finally:
        context.close()


def test_every_page_at_1440_fits_and_is_screenshotted(page: Page, demo):
    sign_in(page, demo.url)
    page_ops = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    for number, path in enumerate([*PAGES, *definition_pages(), f"/traces/{page_ops.id}/"]):
        visit(page, demo.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1440, path
        page.screenshot(path=SCREENSHOTS / f"1440x900-{number:02d}-{slug(path)}.png", full_page=True)


def test_keyboard_skip_links_and_a_styled_not_found_page(page: Page, demo):
    sign_in(page, demo.url)
    page_ops = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    page.goto(f"{demo.url}/traces/{page_ops.id}/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    expect(page.locator("#lineage-graph svg")).to_be_visible()
    page.get_by_role("link", name="Skip the graph").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "after-lineage"

    response = page.goto(f"{demo.url}/traces/00000000-0000-7000-8000-000000000000/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    page.get_by_label("Search traces").fill("Page ops")
    page.get_by_role("button", name="Search traces").click()
    expect(page.locator("#trace-table")).to_contain_text("Page ops")


def test_dark_scheme_and_reduced_motion_are_respected(browser: Browser, demo):
    context = browser.new_context(color_scheme="dark", reduced_motion="reduce")
    page = context.new_page()
    try:
        acme = Organization.objects.get(slug="acme")
        going = make_trace(acme, "Nightly backfill", status="running", source="manual")
        sign_in(page, demo.url)
        page.goto(f"{demo.url}/traces/{going.id}/")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 17, 21)"
        pulse = page.locator(".pulse").first
        assert pulse.evaluate("el => getComputedStyle(el).animationName") == "none"
        page.screenshot(path=SCREENSHOTS / "dark-running-trace.png", full_page=True)
    finally:
        context.close()
