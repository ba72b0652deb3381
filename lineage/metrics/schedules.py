"""Cron schedules, stepped through in the configured time zone."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError
from django.utils import timezone


def validate_cron(expression: str) -> None:
    if not expression:
        return
    try:
        CronSim(expression, timezone.now())
    except CronSimError as exc:
        raise ValidationError(f"“{expression}” is not a valid cron expression: {exc}") from None


def next_tick(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` at which the schedule fires."""
    local = timezone.localtime(after)
    return next(CronSim(expression, local)).astimezone(UTC)


def previous_tick(expression: str, at_or_before: datetime) -> datetime:
    """The last time at or before `at_or_before` at which the schedule fired."""
    # CronSim's reverse mode yields ticks strictly before its start, so start
    # one second on; from the whole second, or in the last second before a
    # tick (10:04:59.5) the tick itself (10:05, still to come) would be taken.
    local = timezone.localtime(at_or_before).replace(microsecond=0) + timedelta(seconds=1)
    return next(CronSim(expression, local, reverse=True)).astimezone(UTC)
