"""Time phrases become windows in the display time zone."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from lineage.assistant.timephrases import MAX_LOOKBACK, find_time_phrases, parse_window

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


# "N ago", weekdays, weeks, weekends and months name a span around then,
# never "in the last N". NOW is Thursday 26 November 2026, 10:30 in Paris.
@pytest.mark.parametrize(
    ("phrase", "start", "end", "label"),
    [
        ("3 days ago", local(23, 0), local(24, 0), "3 days ago (on Nov 23)"),
        ("a day ago", local(25, 0), local(26, 0), "1 day ago (on Nov 25)"),
        ("2 hours ago", local(26, 8), local(26, 9), "about 2 hours ago (08:00–09:00)"),
        ("an hour ago", local(26, 9), local(26, 10), "about 1 hour ago (09:00–10:00)"),
        ("20 minutes ago", local(26, 10, 5), local(26, 10, 15), "about 20 minutes ago (10:05–10:15)"),
        ("2 weeks ago", local(9, 0), local(16, 0), "2 weeks ago (Nov 9–15)"),
        ("on Saturday", local(21, 0), local(22, 0), "on Saturday (Nov 21)"),
        ("saturday's", local(21, 0), local(22, 0), "on Saturday (Nov 21)"),
        ("on Thursday", local(26, 0), local(27, 0), "on Thursday (Nov 26)"),
        ("last Thursday", local(19, 0), local(20, 0), "last Thursday (Nov 19)"),
        ("last tue", local(24, 0), local(25, 0), "last Tuesday (Nov 24)"),
        ("the day before yesterday", local(24, 0), local(25, 0), "the day before yesterday (Nov 24)"),
        ("last night", local(25, 18), local(26, 6), "last night"),
        ("last week", local(16, 0), local(23, 0), "last week (Nov 16–22)"),
        ("over the weekend", local(21, 0), local(23, 0), "over the weekend (Nov 21–22)"),
        ("this weekend", local(21, 0), local(23, 0), "over the weekend (Nov 21–22)"),
        ("on Nov 20", local(20, 0), local(21, 0), "on Nov 20"),
        ("november 20th", local(20, 0), local(21, 0), "on Nov 20"),
        ("on 20 November", local(20, 0), local(21, 0), "on Nov 20"),
        ("on Dec 24", datetime(2025, 12, 24, tzinfo=PARIS), datetime(2025, 12, 25, tzinfo=PARIS), "on Dec 24, 2025"),
        ("this month", local(1, 0), NOW, "this month"),
        ("last month", datetime(2026, 10, 1, tzinfo=PARIS), local(1, 0), "last month (October)"),
        ("in march", datetime(2026, 3, 1, tzinfo=PARIS), datetime(2026, 4, 1, tzinfo=PARIS), "in March"),
    ],
)
def test_a_moment_ago_or_a_named_day_is_a_span_around_then(phrase, start, end, label):
    window = parse_window(f"why did page ops fail {phrase}?", NOW)
    assert (window.start, window.end, window.label) == (start, end, label)


def test_on_a_weekend_this_weekend_is_the_one_going_on():
    sunday = datetime(2026, 11, 29, 15, tzinfo=PARIS)
    assert parse_window("this weekend", sunday).start == datetime(2026, 11, 28, tzinfo=PARIS)
    assert parse_window("last weekend", sunday).start == datetime(2026, 11, 21, tzinfo=PARIS)


def test_two_phrases_are_two_windows_in_the_order_written():
    phrases = find_time_phrases("what changed between yesterday's and today's run", NOW)
    assert [window.label for window in phrases.windows] == ["yesterday", "today"]


@pytest.mark.parametrize(
    ("text", "unread"),
    [
        ("what failed last quarter", ["last quarter"]),
        ("what failed at noon", ["at noon"]),
        ("what failed in the evening of a fortnight ago", ["evening", "fortnight ago"]),
        ("what failed this morning", []),
        ("what failed on saturday", []),
        ("may I see what failed", []),  # "may" is a word before it is a month
    ],
)
def test_what_looks_like_time_but_is_not_understood_is_reported(text, unread):
    assert find_time_phrases(text, NOW).not_understood == unread


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
