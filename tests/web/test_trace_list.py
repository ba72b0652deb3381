"""The trace browser: filters, keyset paging, HTMX partials and polling."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from lineage.observability.models import ExecutionTrace
from lineage.observability.store import update_trace
from lineage.web.trace_filters import PAGE_SIZE
from tests.factories import make_trace, traced_db
from tests.web.conftest import count_queries

pytestmark = traced_db

URL = reverse("web:trace-list")
# A row of either view: a run (the default) or a trace (?view=traces).
ROW_NAME = re.compile(
    r'<tr class="(?:trace|run)-row".*?id="(?:run|trace)-[0-9a-f-]+-link" href="[^"]+"[^>]*>([^<]+)</a>',
    re.S,
)
OLDER = re.compile(r'class="older" href="([^"]+)"')


def names(response) -> list[str]:
    return [html.unescape(name) for name in ROW_NAME.findall(response.text)]


def older_link(response) -> str | None:
    match = OLDER.search(response.text)
    return URL + html.unescape(match.group(1)) if match else None


def test_newest_first_with_every_column(member_client, org):
    now = timezone.now()
    make_trace(org, "Oldest", started_at=now - timedelta(hours=3))
    make_trace(org, "Newest", started_at=now - timedelta(minutes=1), duration=timedelta(seconds=4.2))
    make_trace(org, "Middle", started_at=now - timedelta(hours=1), trace_type="alert", source="manual")

    response = member_client.get(URL, {"view": "traces"})

    assert names(response) == ["Newest", "Middle", "Oldest"]
    for header in ("Type", "Name", "Result", "Status", "Source", "Started", "Duration"):
        assert f">{header}</th>" in response.text
    assert "4.2 s" in response.text
    assert "Manual" in response.text


def test_filters_by_type_status_and_source(member_client, org):
    make_trace(org, "Metric ok")
    make_trace(org, "Alert ok", trace_type="alert", source="dependency")
    make_trace(org, "Metric broke", status="failed", error="ValueError: boom")
    make_trace(org, "Metric by hand", source="manual")

    assert set(names(member_client.get(URL, {"type": "alert"}))) == {"Alert ok"}
    assert set(names(member_client.get(URL, {"status": "failed"}))) == {"Metric broke"}
    assert set(names(member_client.get(URL, {"source": "manual"}))) == {"Metric by hand"}
    assert set(names(member_client.get(URL, {"type": "metric", "status": "succeeded"}))) == {
        "Metric ok",
        "Metric by hand",
    }


def test_time_windows(member_client, org):
    now = timezone.now()
    make_trace(org, "Just now", started_at=now - timedelta(minutes=5))
    make_trace(org, "This morning", started_at=now - timedelta(hours=5))
    make_trace(org, "Last week", started_at=now - timedelta(days=3))
    make_trace(org, "Last month", started_at=now - timedelta(days=30))

    assert names(member_client.get(URL, {"window": "1h"})) == ["Just now"]
    assert names(member_client.get(URL, {"window": "24h"})) == ["Just now", "This morning"]
    assert names(member_client.get(URL, {"window": "7d"})) == ["Just now", "This morning", "Last week"]
    assert len(names(member_client.get(URL))) == 4


def test_custom_range(member_client, org):
    start = timezone.localtime(timezone.now()).replace(microsecond=0) - timedelta(days=10)
    make_trace(org, "Before", started_at=start - timedelta(days=1))
    make_trace(org, "Inside", started_at=start + timedelta(hours=2))
    make_trace(org, "After", started_at=start + timedelta(days=2))
    query = {
        "window": "custom",
        "from": start.strftime("%Y-%m-%dT%H:%M"),
        "to": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert names(member_client.get(URL, query)) == ["Inside"]


def test_search_matches_name_and_error_ignoring_case(member_client, org):
    make_trace(org, "Daily revenue")
    make_trace(org, "Open orders", status="failed", error="OperationalError: REVENUE table is locked")
    make_trace(org, "Signups")

    assert set(names(member_client.get(URL, {"q": "revenue"}))) == {"Daily revenue", "Open orders"}
    assert names(member_client.get(URL, {"q": "signups"})) == ["Signups"]
    assert "No traces match these filters" in member_client.get(URL, {"q": "nothing like it"}).text


def test_search_finds_a_trace_by_the_short_id_the_pages_show_or_a_prefix(member_client, org):
    wanted = make_trace(org, "Wanted")
    make_trace(org, "Other")

    assert names(member_client.get(URL, {"q": str(wanted.id)[-8:]})) == ["Wanted"]
    assert names(member_client.get(URL, {"q": str(wanted.id)[-17:]})) == ["Wanted"]  # across a dash
    assert names(member_client.get(URL, {"q": str(wanted.id).upper()})) == ["Wanted"]
    assert "Wanted" in names(member_client.get(URL, {"q": str(wanted.id)[:8]}))  # a prefix: same-time ids share it


def test_older_link_pages_through_everything_without_overlap(member_client, org):
    now = timezone.now()
    # Half of the rows share one start time: the id breaks the tie.
    same_moment = now - timedelta(minutes=30)
    for n in range(PAGE_SIZE):
        make_trace(org, f"tied {n:02}", started_at=same_moment)
    for n in range(PAGE_SIZE + 10):
        make_trace(org, f"spread {n:02}", started_at=now - timedelta(minutes=n, seconds=1))

    seen: list[str] = []
    url: str | None = URL
    pages = 0
    while url:
        response = member_client.get(url)
        page = names(response)
        assert len(page) <= PAGE_SIZE
        seen += page
        url = older_link(response)
        pages += 1

    assert pages == 3
    assert len(seen) == len(set(seen)) == 2 * PAGE_SIZE + 10
    first_page = names(member_client.get(URL))
    assert first_page[:10] == [f"spread {n:02}" for n in range(10)]


def test_paging_keeps_the_filters(member_client, org):
    for n in range(PAGE_SIZE + 3):
        make_trace(org, f"failed {n}", status="failed", error="boom")
        make_trace(org, f"fine {n}")

    first = member_client.get(URL, {"status": "failed"})
    older = member_client.get(older_link(first))

    assert "status=failed" in older_link(first)
    assert len(names(older)) == 3
    assert all(name.startswith("failed") for name in names(older))
    assert set(names(older)).isdisjoint(names(first))
    assert "Newest" in older.text


def test_bad_filter_values_are_ignored_with_a_note(member_client, org):
    make_trace(org, "Still shown")
    response = member_client.get(
        URL,
        {
            "type": "spaceship",
            "status": "<b>weird</b>",
            "source": "cron",
            "window": "forever",
            "cursor": "not-a-cursor",
        },
    )
    assert response.status_code == 200
    assert names(response) == ["Still shown"]
    assert "Unknown type “spaceship” ignored." in response.text
    assert "Unknown status “&lt;b&gt;weird&lt;/b&gt;” ignored." in response.text
    assert "Unknown source “cron” ignored." in response.text
    assert "Unknown time window “forever” ignored." in response.text
    assert "page position in the link is not valid" in response.text


def test_bad_custom_dates_are_ignored_with_a_note(member_client, org):
    make_trace(org, "Still shown")
    response = member_client.get(URL, {"window": "custom", "from": "yesterday", "to": "2026-13-45"})
    assert response.status_code == 200
    assert names(response) == ["Still shown"]
    assert "“yesterday” is not a date and time" in response.text
    assert "“2026-13-45” is not a date and time" in response.text

    backwards = member_client.get(URL, {"window": "custom", "from": "2026-02-01", "to": "2026-01-01"})
    assert "ends before it starts" in backwards.text
    assert names(backwards) == ["Still shown"]


def test_a_search_with_a_nul_character_finds_nothing_instead_of_failing(member_client, org):
    make_trace(org, "Daily revenue")
    response = member_client.get(URL, {"q": "Daily\x00revenue"})
    assert response.status_code == 200
    assert names(response) == []


def test_htmx_request_gets_only_the_table(member_client, org):
    make_trace(org, "Daily revenue")
    response = member_client.get(URL, {"type": "metric"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="trace-table"')
    assert "<html" not in response.text
    assert "mainnav" not in response.text
    assert names(response) == ["Daily revenue"]
    assert "HX-Request" in response["Vary"]


def test_full_page_without_htmx_has_the_filter_form_that_pushes_the_url(member_client, org):
    response = member_client.get(URL)
    assert "<html" in response.text
    assert 'hx-push-url="true"' in response.text
    assert f'<form class="filters" method="get" action="{URL}"' in response.text


def test_htmx_history_restore_gets_the_full_page(member_client, org):
    response = member_client.get(
        URL, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.text


def arrivals_url(response) -> str:
    """The URL the first page's “new runs” bar polls."""
    return html.unescape(re.search(r'id="arrivals"[^>]*hx-get="([^"]+)"', response.text).group(1))


def test_the_first_page_polls_for_new_runs_without_redrawing_the_table(member_client, org):
    make_trace(org, "Daily revenue", started_at=timezone.now() - timedelta(minutes=5))
    first = member_client.get(URL)
    assert 'hx-trigger="every 4s"' in first.text
    poll = URL + arrivals_url(first)

    quiet = member_client.get(poll, HTTP_HX_REQUEST="true")
    assert "new run" not in quiet.text
    assert 'id="trace-table"' not in quiet.text

    for n in range(3):
        make_trace(org, f"Arrived {n}")
    make_trace(org, "An alert it caused", source="dependency")  # part of a run, not a run
    arrived = member_client.get(poll, HTTP_HX_REQUEST="true")
    assert "3 new runs — show" in arrived.text
    assert 'id="trace-table"' not in arrived.text  # the reader's table stays put


def test_older_pages_do_not_poll(member_client, org):
    for n in range(PAGE_SIZE + 2):
        make_trace(org, f"run {n}", started_at=timezone.now() - timedelta(minutes=n))
    older = member_client.get(older_link(member_client.get(URL)))
    assert 'id="arrivals"' not in older.text


def test_a_run_still_going_is_refreshed_in_place_by_the_poll(member_client, org):
    running = make_trace(org, "Still going", status="running")
    first = member_client.get(URL)
    poll = URL + arrivals_url(first)
    assert f"live={running.id}" in poll
    update_trace(running.id, status="succeeded", completed_at=timezone.now())

    fresh = member_client.get(poll, HTTP_HX_REQUEST="true")

    row = re.search(r'<template>\s*<tr class="run-row" id="run-[^"]+"[^>]*hx-swap-oob="true">.*?</tr>', fresh.text, re.S)
    assert row and 'status-succeeded' in row.group(0)
    assert "live=" + str(running.id) not in html.unescape(fresh.text)  # finished: no longer polled


def test_poll_ignores_ids_that_are_not_the_users(member_client, org, other_org):
    foreign = make_trace(other_org, "Globex secret", status="running")
    make_trace(org, "Ours")
    first = member_client.get(URL)
    poll = URL + arrivals_url(first) + f"&live={foreign.id},not-an-id"
    assert "Globex secret" not in member_client.get(poll, HTTP_HX_REQUEST="true").text


def test_names_are_escaped(member_client, org):
    make_trace(org, "<script>alert(1)</script>")
    response = member_client.get(URL)
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def run_with_effects(org, n: int) -> None:
    """A scheduled metric run that fired an alert, which started a workflow."""
    metric = make_trace(org, f"metric {n}", outputs={"value": n})
    alert = make_trace(org, f"alert {n}", trace_type="alert", source="dependency",
                       dependencies=[metric.id], outputs={"fired": True, "margin": 1})
    make_trace(org, f"workflow {n}", trace_type="workflow", source="dependency", status="failed",
               dependencies=[alert.id], error="StepFailed: step 1 failed: boom")


def test_query_count_does_not_grow_with_rows(member_client, org, django_assert_num_queries):
    for n in range(3):
        run_with_effects(org, n)
    few_runs = count_queries(member_client, URL)
    few_traces = count_queries(member_client, URL + "?view=traces")
    for n in range(3, 30):
        run_with_effects(org, n)
    with django_assert_num_queries(few_runs):
        runs = member_client.get(URL)
    with django_assert_num_queries(few_traces):
        traces = member_client.get(URL + "?view=traces")
    assert len(names(runs)) == PAGE_SIZE
    assert len(names(traces)) == PAGE_SIZE


def test_each_run_is_one_row_rolled_up_in_words(member_client, org):
    run_with_effects(org, 6)

    response = member_client.get(URL)

    assert names(response) == ["metric 6"]
    assert "metric 6 = 6 → alert 6 fired → workflow 6 ✗ (boom)" in html.unescape(response.text)
    assert 'data-status="failed"' in response.text  # the run failed, though its metric did not
    assert "3 traces" in response.text


def test_a_run_expands_to_its_traces_with_their_results(member_client, org, outsider, client):
    run_with_effects(org, 6)
    root = ExecutionTrace.objects.get(name="metric 6")

    expanded = member_client.get(reverse("web:run-traces", args=[root.id]), HTTP_HX_REQUEST="true")

    rows = re.findall(r'<tr class="member-row".*?</tr>', expanded.text, re.S)
    assert [("metric 6" in r, "alert 6" in r, "workflow 6" in r) for r in rows] == [
        (True, False, False), (False, True, False), (False, False, True)]
    assert "computed 6" in rows[0] and "fired by 1" in rows[1] and "failed" in rows[2]
    client.force_login(outsider)
    assert client.get(reverse("web:run-traces", args=[root.id])).status_code == 404


def test_every_trace_view_keeps_its_links_and_has_a_result_column(member_client, org):
    run_with_effects(org, 6)
    make_trace(org, "quiet", trace_type="alert", source="dependency", outputs={"fired": False, "margin": -4})

    failed = member_client.get(URL, {"status": "failed"})  # an old link: every trace, filtered
    assert 'aria-current="page">Every trace' in failed.text
    assert names(failed) == ["workflow 6"]
    every = html.unescape(member_client.get(URL, {"view": "traces"}).text)
    assert "computed 6" in every and "fired by 1" in every and "did not fire, short by 4" in every


def test_status_counts_for_the_current_filter_stop_at_the_cap(member_client, org, monkeypatch):
    monkeypatch.setattr("lineage.web.trace_views.COUNT_CAP", 3)
    for n in range(5):
        make_trace(org, f"ok {n}")
    make_trace(org, "broke", status="failed", error="boom")

    text = member_client.get(URL).text
    assert re.search(r"status-succeeded\">succeeded</span> 3\+", text)
    assert re.search(r"status-failed\">failed</span> 1<", text)
    filtered = member_client.get(URL, {"q": "broke"}).text
    assert "status-succeeded" not in filtered.split('class="counts')[1].split("</p>")[0]


def test_long_errors_are_cut_in_the_middle_keeping_the_cause(member_client, org):
    error = "StepFailed: " + "x" * 300 + " failed: [Errno 111] Connection refused"
    make_trace(org, "broke", status="failed", error=error)
    text = member_client.get(URL, {"view": "traces"}).text
    assert "… " in text and "Connection refused</div>" in text


def test_runs_of_one_definition(member_client, org):
    make_trace(org, "Open orders", subject="metric:1")
    make_trace(org, "Daily revenue", subject="metric:2")
    assert names(member_client.get(URL, {"subject": "metric:1"})) == ["Open orders"]
