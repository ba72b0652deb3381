"""The runs list and the pages that update themselves, in a real browser."""
from __future__ import annotations

import re
import threading

from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect

from lineage.observability.models import ExecutionTrace
from lineage.observability.store import update_trace
from lineage.tenancy.models import Organization
from lineage.workflows.engine import run_workflow
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import make_trace, make_workflow, traced_db

pytestmark = traced_db


def test_each_run_is_a_row_rolled_up_in_words_that_expands_to_its_traces(page: Page, demo):
    sign_in(page, demo.url)
    run = page.locator("#trace-table tr.run-row", has_text="Open orders")
    expect(run).to_have_attribute("data-status", "failed")
    expect(run.locator(".summary")).to_have_text(
        "Open orders = 7 → Orders piling up fired → Page ops ✗ step 1 (Connection refused at 127.0.0.1:9)"
    )
    expect(page.locator("#trace-table tr.run-row")).to_have_count(2)  # two runs, nine traces

    run.get_by_role("button", name=re.compile("4 traces")).click()

    members = page.locator("#trace-table tr.member-row")
    expect(members).to_have_count(4)
    expect(members.nth(0)).to_contain_text("computed 7")
    expect(members.nth(1)).to_contain_text("fired by 2")
    expect(members.nth(2)).to_contain_text("step 1 failed")
    page.screenshot(path=SCREENSHOTS / "runs-list-expanded.png", full_page=True)
    run.get_by_role("button", name=re.compile("4 traces")).click()
    expect(members.first).to_be_hidden()


def test_a_new_run_appears_as_a_bar_and_a_running_row_updates_in_place(page: Page, demo):
    acme = Organization.objects.get(slug="acme")
    going = make_trace(acme, "Nightly backfill", status="running", source="manual")
    sign_in(page, demo.url)
    row = page.locator(f"#run-{going.id}")
    expect(row.locator(".badge")).to_have_text("running")
    link = page.locator(f"#run-{going.id}-link")
    link.focus()
    page.evaluate("window.marker = 'still here'")

    make_trace(acme, "Hourly import", source="schedule")
    update_trace(going.id, status="succeeded", completed_at=timezone.now())

    expect(page.get_by_role("status").filter(has_text="1 new run — show")).to_be_visible(timeout=10_000)
    expect(row.locator(".badge")).to_have_text("succeeded", timeout=10_000)
    expect(page.locator("#trace-table tr.run-row").first).to_contain_text("Nightly backfill")  # not moved
    assert page.evaluate("document.activeElement.id") == f"run-{going.id}-link"  # focus kept
    assert page.evaluate("window.marker") == "still here"

    page.get_by_text("1 new run — show").click()
    expect(page.locator("#trace-table tr.run-row").first).to_contain_text("Hourly import")


def test_a_running_workflows_page_turns_succeeded_without_a_reload(page: Page, demo, webhook_receiver):
    webhook_receiver.delay = 3
    acme = Organization.objects.get(slug="acme")
    workflow = make_workflow(
        acme,
        "Slow hook",
        steps=[("log", "Say hello", {"message": "hi"}), ("webhook", "Call slowly", {"url": webhook_receiver.url})],
    )
    def run_slowly() -> None:
        try:
            run_workflow(workflow, source="manual")
        finally:
            connections.close_all()  # this thread's own connections

    runner = threading.Thread(target=run_slowly)
    runner.start()
    try:
        for _ in range(100):
            trace = ExecutionTrace.objects.filter(name="Slow hook", trace_type="workflow").first()
            if trace is not None:
                break
            threading.Event().wait(0.05)
        sign_in(page, demo.url)
        page.goto(f"{demo.url}/traces/{trace.id}/")
        page.evaluate("window.marker = 'still here'")
        header = page.locator(".trace-header .title-actions .badge")
        expect(header).to_have_text("running")
        expect(page.locator("#trace-duration")).to_contain_text("so far")
        page.get_by_label("Question about this run").focus()

        expect(header).to_have_text("succeeded", timeout=15_000)
        expect(page.locator("#steps li.step-row")).to_have_count(2)
        expect(page.locator("#trace-duration")).not_to_contain_text("so far")
        expect(page.locator("#lineage-graph g.node", has_text="Call slowly")).to_have_count(1)
        assert page.evaluate("window.marker") == "still here"  # no reload
        assert page.evaluate("document.activeElement.id") == "trace-question"  # focus kept
    finally:
        runner.join(timeout=20)


def test_the_waterfall_places_steps_by_start_time_and_greys_steps_not_run(page: Page, demo):
    sign_in(page, demo.url)
    notify = ExecutionTrace.objects.get(trace_type="workflow", name="Notify on-call")
    page.goto(f"{demo.url}/traces/{notify.id}/")
    bars = page.locator("#steps .wf-track .bar")
    expect(bars).to_have_count(2)
    lefts = [box["x"] for box in (bars.nth(n).bounding_box() for n in range(2))]
    assert lefts[0] < lefts[1]  # the second step started after the first ended
    assert "+" in page.locator("#steps .bar-label").nth(1).inner_text()
    assert "started" in bars.nth(0).locator("xpath=..").get_attribute("title")

    page_ops = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    page.goto(f"{demo.url}/traces/{page_ops.id}/")
    not_run = page.locator("#steps li.step-row.not-run")
    expect(not_run).to_contain_text("Log the page")
    assert float(not_run.evaluate("el => getComputedStyle(el).opacity")) < 1


def test_a_failed_runs_header_says_how_long_it_has_been_failing(page: Page, demo):
    page_ops = ExecutionTrace.objects.get(trace_type="workflow", name="Page ops")
    sign_in(page, demo.url)
    page.goto(f"{demo.url}/traces/{page_ops.id}/")

    header = page.locator(".trace-header")
    expect(header.locator(".root-cause")).to_contain_text("Connection refused at 127.0.0.1:9")
    expect(header.locator(".triage-line")).to_contain_text("Failing since")
    expect(header.locator(".triage-line")).to_contain_text("1 run in a row")
    expect(header.locator(".strip a.strip-failed")).to_have_count(1)
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_have_text(re.compile(r"Traces\s*›\s*Open orders\s*›\s*Orders piling up\s*›\s*Page ops"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Failures").click()
    group = page.locator("tr.failure-group", has_text="Page ops")
    expect(group).to_contain_text("Failing since")
    expect(page.locator("tr.cause-head")).to_contain_text("Connection refused at 127.0.0.1:9 — 1 workflow")
