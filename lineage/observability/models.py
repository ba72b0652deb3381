from __future__ import annotations

from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Cast, Reverse

from lineage.observability.ids import uuid7
from lineage.tenancy.models import Organization


class TraceType(models.TextChoices):
    METRIC = "metric", "Metric"
    ALERT = "alert", "Alert"
    WORKFLOW = "workflow", "Workflow"
    STEP = "step", "Step"


class TraceSource(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    CHAT = "chat", "Chat"
    DEPENDENCY = "dependency", "Dependency"
    MANUAL = "manual", "Manual"


class TraceStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ABANDONED = "abandoned", "Abandoned"


TRACEBACK_MARKER = "Traceback (most recent call last)"

FINISHED_STATUSES = {TraceStatus.SUCCEEDED, TraceStatus.FAILED, TraceStatus.ABANDONED}


def reversed_id() -> Reverse:
    """The id as text read backwards: a short id (a suffix) becomes a prefix,
    which the trace_id_reversed index answers."""
    return Reverse(Cast("id", models.TextField()))


def short_trace_id(trace_id: object) -> str:
    """The last 8 hex digits of an id, for people. Not the first 8: a
    time-ordered id starts with its timestamp, the same for a minute's traces."""
    return str(trace_id)[-8:]


class ExecutionTrace(models.Model):
    """One run of one engine: a metric computation, an alert evaluation, a
    workflow run or one of its steps. `dependencies` lists the traces that
    caused it, so the rows form the lineage DAG."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="traces", db_index=False
    )
    trace_type = models.CharField(max_length=20, choices=TraceType.choices)
    source = models.CharField(max_length=20, choices=TraceSource.choices)
    name = models.TextField()
    subject = models.CharField(max_length=100, blank=True, default="")
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    dependencies = ArrayField(models.UUIDField(), default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=TraceStatus.choices, default=TraceStatus.RUNNING
    )
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "execution_traces"
        ordering = ["-started_at", "-id"]
        indexes = [
            # The trace list: newest first within an organization, keyset-paged
            # on (started_at, id).
            models.Index(
                "org", models.F("started_at").desc(), models.F("id").desc(), name="trace_list"
            ),
            # Status filters ("failed in the last 24 h") and the Failures page.
            models.Index(
                "org", "status", models.F("started_at").desc(), name="trace_status"
            ),
            # "Last runs of workflow X": definition pages and the assistant.
            models.Index(
                "org", "subject", models.F("started_at").desc(), name="trace_subject"
            ),
            # Children of a trace: dependencies @> ARRAY[id]. No fast-update
            # pending list: every lineage lookup would scan that unsorted list
            # (up to 4 MB of recent inserts) until a vacuum merged it — 25 ms
            # instead of 2 for a depth-20 lineage at a million traces.
            GinIndex(fields=["dependencies"], name="trace_dependencies", fastupdate=False),
            # Short ids: the last digits of an id, pasted from a page. A suffix
            # of the id is a prefix of the reversed text; text_pattern_ops lets
            # LIKE 'prefix%' use the index whatever the database's collation.
            models.Index(
                OpClass(reversed_id(), name="text_pattern_ops"), name="trace_id_reversed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trace_type} {self.name} ({self.status})"

    @property
    def short_id(self) -> str:
        return short_trace_id(self.id)

    @property
    def duration(self) -> timedelta | None:
        if self.completed_at is None:
            return None
        return self.completed_at - self.started_at

    @property
    def error_summary(self) -> str:
        """Exception type and message, without the traceback."""
        return self.error.split(TRACEBACK_MARKER, 1)[0].strip()

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES
