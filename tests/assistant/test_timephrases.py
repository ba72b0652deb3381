"""Time phrases become windows in the display time zone."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from lineage.assistant.timephrases import MAX_LOOKBACK, parse_window

PARIS = ZoneInfo("Europe/Paris")
# Thursday 26 November 2026, 10:30 in Paris (09:30 UTC).
NOW = datetime(2026, 11, 26, 10, 30, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def paris(settings):
    settings.TIME_ZONE = "Europe/Paris"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("phrase", "start", "end", "label"),
    [
        ("today", local(26, 0), NOW, "today"),
        ("this morning", local(26, 0), NOW, "this morning"),
        ("yesterday", local(25, 0), local(26, 0), "yesterday"),
        ("in the last hour", local(26, 9, 30), NOW, "in the last hour"),
        ("last 3 hours", local(26, 7, 30), NOW, "in the last 3 hours"),
        ("past 30 minutes", local(26, 10), NOW, "in the last 30 minutes"),
        ("since Monday", local(23, 0), NOW, "since Monday"),
        ("since thursday", local(26, 0), NOW, "since Thursday"),
        ("since 9am", local(26, 9), NOW, "since 09:00"),
        ("at 10:05", local(26, 10, 5), local(26, 10, 6), "at 10:05"),
        ("at 11:15", local(25, 11, 15), local(25, 11, 16), "at 11:15"),  # still to come today
        ("between 9 and 11", local(26, 9), local(26, 11), "between 09:00 and 11:00"),
        ("from 9:30 to 10", local(26, 9, 30), local(26, 10), "between 09:30 and 10:00"),
        ("between 9 and 2", local(26, 9), local(26, 14), "between 09:00 and 14:00"),
        ("between 2pm and 4pm", local(25, 14), local(25, 16), "between 14:00 and 16:00"),
        ("on 2026-11-24", local(24, 0), local(25, 0), "on Nov 24"),
        ("2026-11-24", local(24, 0), local(25, 0), "on Nov 24"),
        ("since 2026-11-20", local(20, 0), NOW, "since Nov 20"),
        ("between 2026-11-20 and 2026-11-22", local(20, 0), local(23, 0), "between Nov 20 and Nov 22"),
        ("between 2026-11-22 and 2026-11-20", local(20, 0), local(23, 0), "between Nov 20 and Nov 22"),
        ("from 2026-11-20 to 2026-11-21", local(20, 0), local(22, 0), "between Nov 20 and Nov 21"),
        ("on 2025-11-26", datetime(2025, 11, 26, tzinfo=PARIS), datetime(2025, 11, 27, tzinfo=PARIS), "on Nov 26, 2025"),
    ],
)
def test_phrase_is_a_window_in_local_time(phrase, start, end, label):
    window = parse_window(f"why didn't it run {phrase}?", NOW)
    assert (window.start, window.end, window.label) == (start, end, label)


def test_no_phrase_is_no_window():
    assert parse_window("why did page ops run", NOW) is None


@pytest.mark.parametrize(
    "phrase",
    ["at 25:99", "between 9 and 7am", "at 24:00", "on 2026-13-45", "since 2026-02-30"],
)
def test_impossible_times_are_ignored(phrase):
    assert parse_window(phrase, NOW) is None


def test_huge_look_backs_are_cut_not_an_overflow():
    window = parse_window("failures in the last 99999999999 days", NOW)
    assert window.end - window.start == MAX_LOOKBACK


def test_utc_moments_are_read_in_the_local_day():
    # 23:30 UTC on the 26th is already the 27th in Paris: "today" starts at Paris midnight.
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert parse_window("today", late).start == local(27, 0)


@pytest.mark.parametrize(
    "phrase", ["since 0001-01-01", "on 0001-01-01", "on 9999-12-31", "between 0001-01-01 and 9999-12-31"]
)
def test_dates_out_of_reach_are_cut_not_an_overflow(phrase):
    window = parse_window(phrase, NOW)
    assert NOW - MAX_LOOKBACK <= window.start <= window.end <= NOW + MAX_LOOKBACK
