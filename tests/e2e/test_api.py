"""The API seen from a browser: its interactive docs (Swagger UI from
Lineage's own static files, under a script-src 'self' policy) and an owner
creating a token, then reading with it."""
from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.factories import traced_db

pytestmark = traced_db


def test_the_docs_work_under_the_pages_policy_and_a_new_token_reads_the_api(page: Page, demo):
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(demo.url) and not request.url.startswith("data:") else None)

    page.goto(demo.url + "/api/v1/docs")
    expect(page.get_by_text("Lineage API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/traces/{trace_id}/explanation")).to_be_visible()
    assert blocked == [] and outside == []

    sign_in(page, demo.url)
    page.get_by_role("link", name="API", exact=True).click()
    page.get_by_label("Name").fill("Grafana")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("[data-token]").inner_text().strip()
    assert re.fullmatch(r"lin_[\w-]{40,}", secret)

    request = urllib.request.Request(demo.url + "/api/v1/failures", headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        failures = json.load(response)
    assert [group["name"] for group in failures] == ["Page ops"]
    page.get_by_role("link", name="API", exact=True).click()  # the list again: the secret is gone
    expect(page.get_by_role("cell", name="Grafana")).to_be_visible()
    assert secret not in page.content() and secret[:12] in page.content()
