"""Cron schedules, stepped through in the configured time zone."""
from __future__ import annotations

from dataclasses import dataclass
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


# A tick this recent may simply not have been claimed yet: run_scheduler
# runs once a minute.
SCHEDULER_GRACE = timedelta(minutes=2)
# Ticks are counted up to this many (a minutely schedule down for months
# is "more than 1,000").
MAX_COUNTED_TICKS = 1000


@dataclass(frozen=True)
class Ticks:
    """Some consecutive ticks of a schedule: the first, the last, how many."""

    first: datetime
    last: datetime
    count: int
    more: bool = False  # there were more than `count`


def ticks_between(expression: str, after: datetime, until: datetime) -> Ticks | None:
    """The ticks strictly after `after`, up to and including `until`."""
    found: list[datetime] = []
    try:
        for tick in CronSim(expression, timezone.localtime(after)):
            if tick > timezone.localtime(until) or len(found) > MAX_COUNTED_TICKS:
                break
            found.append(tick.astimezone(UTC))
    except CronSimError:
        return None
    if not found:
        return None
    more = len(found) > MAX_COUNTED_TICKS
    found = found[:MAX_COUNTED_TICKS]
    return Ticks(found[0], found[-1], len(found), more)
