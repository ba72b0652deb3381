"""The assistant in a real browser."""
from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from lineage.alerts.models import AlertRule
from lineage.observability.models import ExecutionTrace
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import traced_db

pytestmark = traced_db


@pytest.fixture
def quiet_demo(live_server):
    """The demo with Revenue spike's threshold above Daily revenue's 12,840:
    the scheduler's pass evaluates it, it stays quiet, Notify on-call does not run."""
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    AlertRule.objects.filter(name="Revenue spike").update(threshold=20_000)
    call_command("run_scheduler", stdout=open(os.devnull, "w"))
    return live_server


def test_why_did_this_run_on_a_workflow_trace_page_reads_the_chain(page: Page, demo):
    sign_in(page, demo.url)
    page_ops = ExecutionTrace.objects.get(name="Page ops")
    page.goto(f"{demo.url}/traces/{page_ops.id}/")
    page.evaluate("window.notReloaded = true")

    page.locator("#ask-about-trace").get_by_role("button", name="Why did this run?").click()

    answer = page.locator("#trace-answers .exchange").first
    expect(answer).to_contain_text("It ran because alert “Orders piling up” fired")
    expect(answer).to_contain_text("metric “Open orders” computed 7")
    expect(answer).to_contain_text("failed at step 1 “Page the ops channel”")
    assert page.evaluate("window.notReloaded") is True  # answered in place
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#ask-about-trace").screenshot(path=SCREENSHOTS / "assistant-why-did-this-run.png")

    page.get_by_label("Question about this run").fill("what did this trigger?")
    page.get_by_label("Question about this run").press("Enter")
    expect(page.locator("#trace-answers .exchange").first).to_contain_text("triggered")

    explanation = page.locator("#trace-answers .exchange").last  # new answers go on top
    explanation.get_by_role("link").filter(has_text="alert Orders piling up").click()
    expect(page).to_have_url(re.compile(r"/traces/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orders piling up")


def test_ask_page_answers_why_not_from_the_traces(page: Page, quiet_demo):
    sign_in(page, quiet_demo.url)
    page.get_by_role("link", name="Ask").click()

    page.get_by_label("Question").fill("why didn't Notify on-call run in the last hour?")
    page.get_by_role("button", name="Ask", exact=True).click()

    exchange = page.locator("#conversation .exchange").last
    expect(exchange).to_contain_text("Workflow “Notify on-call” did not run in the last hour.")
    # The address now holds the question: it can be shared as it is.
    expect(page).to_have_url(re.compile(r"/ask/\?q=why\+didn%27t\+Notify\+on-call\+run"))
    expect(exchange).to_contain_text(
        "value 12,840 > threshold 20,000, which is false, short by 7,160."
    )
    page.get_by_role("button", name="What failed today?").click()
    expect(page.locator("#conversation .exchange").last).to_contain_text("Page ops")
    page.reload()
    expect(page.locator("#conversation .exchange")).to_have_count(2)  # kept in the session
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "assistant-ask-why-not.png", full_page=True)

    # The evaluation it cites is a link to that trace.
    page.locator("#conversation .exchange").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revenue spike")
    expect(page.locator("body")).to_contain_text("20,000")


def test_a_shared_question_lands_on_its_answer(page: Page, demo):
    sign_in(page, demo.url)

    page.goto(f"{demo.url}/ask/?q=why+did+page+ops+fail")

    exchange = page.locator("#conversation .exchange").last
    expect(exchange).to_contain_text("why did page ops fail")
    expect(exchange).to_contain_text("Workflow “Page ops” failed at step 1")


def test_a_run_from_chat_waits_for_its_button(page: Page, demo):
    sign_in(page, demo.url)
    page.goto(f"{demo.url}/ask/")
    before = ExecutionTrace.objects.count()

    page.get_by_label("Question").fill("run daily revenue now")
    page.get_by_role("button", name="Ask", exact=True).click()
    offer = page.locator("#conversation .exchange").last
    expect(offer).to_contain_text("Run metric “Daily revenue” now?")
    assert ExecutionTrace.objects.count() == before  # asking ran nothing

    offer.get_by_role("button", name="Run Daily revenue now").click()

    expect(page.locator("#conversation .exchange").last).to_contain_text(
        "I ran metric “Daily revenue”: it computed 12,840."
    )
    assert ExecutionTrace.objects.filter(source="chat", name="Daily revenue").count() == 1
