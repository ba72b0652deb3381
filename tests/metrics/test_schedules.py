"""Cron schedules in the configured time zone."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lineage.metrics.schedules import next_tick, previous_tick
from tests.factories import traced_db

pytestmark = traced_db

NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


def test_cron_ticks_follow_the_configured_time_zone_across_dst(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks go back at 03:00 CEST on 2026-10-25: 02:30 happens twice.
    before = datetime(2026, 10, 24, 12, 0, tzinfo=berlin)
    tick = next_tick("30 2 * * *", before)
    assert tick == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_tick("0 9 * * *", tick) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert previous_tick("*/5 * * * *", NOW) == NOW
    assert previous_tick("*/5 * * * *", NOW + timedelta(minutes=4)) == NOW


def test_the_previous_tick_is_never_still_to_come():
    # Half a second before a tick, the tick has not happened yet: seed_demo
    # makes metrics due with it, and a tick in the future is not due.
    just_before = NOW - timedelta(milliseconds=500)
    assert previous_tick("*/5 * * * *", just_before) == NOW - timedelta(minutes=5)
    assert previous_tick("*/5 * * * *", NOW + timedelta(milliseconds=500)) == NOW
