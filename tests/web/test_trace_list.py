"""The trace browser: filters, keyset paging, HTMX partials and polling."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from lineage.observability.store import update_trace
from lineage.web.trace_filters import PAGE_SIZE
from tests.factories import make_trace, traced_db
from tests.web.conftest import count_queries

pytestmark = traced_db

URL = reverse("web:trace-list")
ROW_NAME = re.compile(r'<tr class="trace-row"[^>]*>.*?<td class="name"><a href="[^"]+">([^<]+)</a>', re.S)
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

    response = member_client.get(URL)

    assert names(response) == ["Newest", "Middle", "Oldest"]
    for header in ("Type", "Name", "Status", "Source", "Started", "Duration"):
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


def test_table_polls_while_a_shown_trace_is_running(member_client, org):
    running = make_trace(org, "Still going", status="running")
    response = member_client.get(URL, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 3s"' in response.text
    assert "refreshes every 3 seconds" in response.text

    # Once nothing shown is running the next refresh renders no trigger: polling stops.
    update_trace(running.id, status="succeeded", completed_at=timezone.now())
    response = member_client.get(URL, HTTP_HX_REQUEST="true")
    assert "every 3s" not in response.text


def test_table_does_not_poll_when_running_traces_are_filtered_out(member_client, org):
    make_trace(org, "Still going", status="running")
    make_trace(org, "Done")
    response = member_client.get(URL, {"status": "succeeded"})
    assert "every 3s" not in response.text


def test_names_are_escaped(member_client, org):
    make_trace(org, "<script>alert(1)</script>")
    response = member_client.get(URL)
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_query_count_does_not_grow_with_rows(member_client, org, django_assert_num_queries):
    for n in range(5):
        make_trace(org, f"trace {n}", status="failed", error="boom")
    few = count_queries(member_client, URL)
    for n in range(5, 50):
        make_trace(org, f"trace {n}", status="failed", error="boom")
    with django_assert_num_queries(few):
        response = member_client.get(URL)
    assert len(names(response)) == PAGE_SIZE
