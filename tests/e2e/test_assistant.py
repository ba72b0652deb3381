"""The assistant in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from lineage.observability.models import ExecutionTrace
from tests.e2e.conftest import sign_in
from tests.factories import traced_db

pytestmark = traced_db


def test_why_did_this_run_on_a_workflow_trace_page_reads_the_chain(page: Page, demo):
    sign_in(page, demo.url)
    page_ops = ExecutionTrace.objects.get(name="Page ops")
    page.goto(f"{demo.url}/traces/{page_ops.id}/")
    page.evaluate("window.notReloaded = true")

    page.locator("#ask-about-trace").get_by_role("button", name="Why did this run?").click()

    answer = page.locator("#trace-answers .exchange").first
    expect(answer).to_contain_text("Workflow “Page ops” ran because alert “Orders piling up” fired")
    expect(answer).to_contain_text("metric “Open orders” computed 7")
    expect(answer).to_contain_text("failed at step 1 “Page the ops channel”")
    assert page.evaluate("window.notReloaded") is True  # answered in place

    page.get_by_label("Question about this run").fill("what did this trigger?")
    page.get_by_label("Question about this run").press("Enter")
    expect(page.locator("#trace-answers .exchange").first).to_contain_text("triggered")

    explanation = page.locator("#trace-answers .exchange").last  # new answers go on top
    explanation.get_by_role("link").filter(has_text="alert Orders piling up").click()
    expect(page).to_have_url(re.compile(r"/traces/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orders piling up")


def test_ask_page_answers_why_not_from_the_traces(page: Page, demo):
    sign_in(page, demo.url)
    page.get_by_role("link", name="Ask").click()

    page.get_by_label("Question").fill("why didn't Notify on-call run in the last hour?")
    page.get_by_role("button", name="Ask", exact=True).click()

    exchange = page.locator("#conversation .exchange").last
    expect(exchange).to_contain_text("Workflow Notify on-call did run in the last hour")
    expect(exchange.get_by_role("link")).to_have_count(1)

    page.get_by_role("button", name="What failed today?").click()
    expect(page.locator("#conversation .exchange").last).to_contain_text("Page ops")
    page.reload()
    expect(page.locator("#conversation .exchange")).to_have_count(2)  # kept in the session
