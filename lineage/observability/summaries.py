"""Trace queries that take a window of runs together — counts, the ways
they failed, alert outcomes, what is running, the previous run, when a
setting was first used — for the assistant's answers and the comparison
page. Part of `ExecutionTrace.objects` (its QuerySet derives from this);
each names its index."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, F, Func, Max, Min, Q, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Collate

if TYPE_CHECKING:
    from lineage.observability.models import ExecutionTrace

# TraceStatus and TraceType values, spelled here: models.py imports this module.
_FAILED, _SUCCEEDED, _RUNNING, _PENDING = "failed", "succeeded", "running", "pending"
_ALERT, _STEP = "alert", "step"


def _id_text() -> Collate:
    """A trace id as text that sorts like the id: ids are time-ordered
    (uuid7), so the greatest is the latest trace (PostgreSQL has no max(uuid))."""
    return Collate(Cast("id", TextField()), "C")


class TraceSummaries(models.QuerySet):
    def of_subject(self, subject: str | None) -> TraceSummaries:
        """Runs of one definition, or of all when `subject` is None
        (trace_subject for one; trace_list for all)."""
        return self if subject is None else self.filter(subject=subject)

    def previous_run(self, trace: ExecutionTrace) -> ExecutionTrace | None:
        """The run of the same definition just before `trace` (trace_subject)."""
        if not trace.subject:
            return None
        same = self.filter(org_id=trace.org_id, subject=trace.subject)
        return same.before_position(trace.started_at, trace.id).newest_first().first()

    def first_run_recording(
        self, subject: str, key: str, value: Any, after: datetime, until: datetime
    ) -> ExecutionTrace | None:
        """The first run of `subject` in (after, until] whose inputs recorded
        `key` as `value` — when a changed setting was first used. The
        trace_subject range, then inputs @> {key: value} on its rows."""
        return (
            self.filter(subject=subject, started_at__gt=after, started_at__lte=until)
            .filter(inputs__contains={key: value})
            .order_by("started_at", "id")
            .first()
        )

    def outcome_counts(self) -> dict[str, Any]:
        """How these runs went, in one aggregate: total, failed, succeeded,
        running, fired (alerts), and the first and last start. Callers
        narrow first (of_subject, started_between): trace_subject or trace_list."""
        return self.aggregate(
            total=Count("id"),
            failed=Count("id", filter=Q(status=_FAILED)),
            succeeded=Count("id", filter=Q(status=_SUCCEEDED)),
            running=Count("id", filter=Q(status__in=[_RUNNING, _PENDING])),
            fired=Count("id", filter=Q(outputs__fired=True)),
            first=Min("started_at"),
            last=Max("started_at"),
        )

    def failure_patterns(self) -> list[dict[str, Any]]:
        """These runs' failures grouped by where and why they failed — the
        failing step (a workflow's) and the error's first line — most
        frequent first, each with its count and latest start; one query."""
        return list(
            self.filter(status=_FAILED)
            .annotate(
                step_position=KT("outputs__failed_step__position"),
                step_name=KT("outputs__failed_step__name"),
                step_kind=KT("outputs__failed_step__kind"),
                reason=Func(F("error"), Value("\n"), Value(1), function="split_part", output_field=TextField()),
            )
            .values("trace_type", "name", "step_position", "step_name", "step_kind", "reason")
            .annotate(
                count=Count("id"),
                latest=Max("started_at"),
                # uuid7 ids sort by time, so the greatest id is the latest trace.
                latest_id=Max(_id_text()),
            )
            .order_by("-count", "-latest")
        )

    def running_now(self) -> TraceSummaries:
        """Runs still going (running or waiting to start), oldest first;
        steps left out (told with their workflow). trace_status."""
        return (
            self.filter(status__in=[_RUNNING, _PENDING])
            .exclude(trace_type=_STEP)
            .order_by("started_at", "id")
        )

    def alert_outcomes(self) -> list[dict[str, Any]]:
        """Alert evaluations grouped by alert: per alert its name, how many
        evaluations, how many fired, the latest evaluation and the latest
        firing; one query over the window (trace_list, narrowed by callers)."""
        return list(
            self.filter(trace_type=_ALERT)
            .values("subject", "name")
            .annotate(
                evaluations=Count("id"),
                fired=Count("id", filter=Q(outputs__fired=True)),
                failed=Count("id", filter=Q(status=_FAILED)),
                latest=Max("started_at"),
                latest_fired=Max("started_at", filter=Q(outputs__fired=True)),
                latest_id=Max(_id_text()),
                latest_fired_id=Max(_id_text(), filter=Q(outputs__fired=True)),
            )
            .order_by("-fired", "name")
        )

