from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import connections, models
from django.db.models import Count, F, Q, TextField, Value, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from lineage.observability.ids import (
    TraceNotFound,
    checked_id_fragment,
    id_fragment_condition,
    id_prefix,
    id_suffix,
    reversed_id,
    short_trace_id,
    uuid7,
)
from lineage.observability.redaction import redact
from lineage.observability.summaries import TraceSummaries
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


# Eight digits repeat (an 8-digit suffix is 32 random bits: ~100 pairs among a
# million traces), so a short id means the recent trace when an old one shares it.
RECENT_IDS = timedelta(days=7)
# Trace rows are written on their own autocommit connection (see store.py).
TRACE_DB = "traces"
# How far up a chain of first parents a walk goes (a bound against cycles;
# the benchmark's longest chains are about forty traces).
MAX_CHAIN_DEPTH = 1000

# Each trace, its first parent, that one's first parent … (primary-key lookups).
_FIRST_PARENTS_SQL = """
WITH RECURSIVE path(id, depth) AS (
    SELECT start.id, 0 FROM unnest(%s::uuid[]) AS start(id)
  UNION
    SELECT t.dependencies[1], path.depth + 1
    FROM path JOIN execution_traces AS t ON t.id = path.id
    WHERE t.dependencies[1] IS NOT NULL AND path.depth < %s
)
SELECT t.id, t.org_id, t.trace_type, t.name, t.dependencies[1]
FROM execution_traces AS t
WHERE t.id = ANY (ARRAY(SELECT DISTINCT id FROM path))
"""


class ExecutionTraceQuerySet(TraceSummaries):
    """Every question the product asks of traces. Each names the index that
    answers it; views, commands, the admin and the assistant call these
    instead of building filters of their own."""

    def for_org(self, org: Any) -> ExecutionTraceQuerySet:
        return self.filter(org_id=getattr(org, "pk", org))

    def for_orgs(self, org_ids: Sequence[int]) -> ExecutionTraceQuerySet:
        return self.filter(org_id__in=list(org_ids))

    def newest_first(self) -> ExecutionTraceQuerySet:
        # trace_list: (org, started_at desc, id desc)
        return self.order_by("-started_at", "-id")

    def started_between(
        self, start: datetime | None, end: datetime | None = None
    ) -> ExecutionTraceQuerySet:
        traces = self
        if start is not None:
            traces = traces.filter(started_at__gte=start)
        if end is not None:
            traces = traces.filter(started_at__lt=end)
        return traces

    def runs_of(
        self, subject: str, start: datetime | None = None, end: datetime | None = None
    ) -> ExecutionTraceQuerySet:
        """The runs of one definition, newest first. Used by the definition
        pages and the assistant; trace_subject: (org, subject, started_at desc)."""
        return self.filter(subject=subject).started_between(start, end).newest_first()

    def children_of(self, trace_id: uuid.UUID) -> ExecutionTraceQuerySet:
        """Traces naming `trace_id` among their causes, oldest first.
        dependencies @> ARRAY[id]: the GIN index trace_dependencies."""
        return self.filter(dependencies__contains=[trace_id]).order_by("started_at", "id")

    def parents_of(self, trace: ExecutionTrace) -> ExecutionTraceQuerySet:
        """The traces `trace` names as its causes that still exist (primary key)."""
        return self.filter(id__in=list(trace.dependencies))

    def steps_of(self, workflow_trace: ExecutionTrace) -> ExecutionTraceQuerySet:
        """A workflow run's step traces in the order they ran (GIN index)."""
        return self.filter(org_id=workflow_trace.org_id, trace_type=TraceType.STEP).children_of(
            workflow_trace.id
        )

    def failed_runs(self) -> ExecutionTraceQuerySet:
        """Failed runs, steps left out: a step's failure is told with its
        workflow. trace_status: (org, status, started_at desc)."""
        return self.filter(status=TraceStatus.FAILED).exclude(trace_type=TraceType.STEP)

    def failure_groups(self) -> list[ExecutionTrace]:
        """Failed runs grouped by what failed, in one query: per group its
        latest failed trace, annotated with `failures` (the group's count) and
        `failed_step_name`; newest failure first. A workflow's failures are
        grouped by the step that failed (outputs.failed_step). Used by the
        Failures page; trace_status."""
        group = [F("trace_type"), F("what"), F("failed_step_name")]
        latest = (
            self.failed_runs()
            .annotate(
                # Ad-hoc runs have no subject; their name tells them apart.
                what=Coalesce(NullIf("subject", Value("")), "name", output_field=TextField()),
                failed_step_name=KT("outputs__failed_step__name"),
                failed_step_position=KT("outputs__failed_step__position"),
                failures=Window(Count("id"), partition_by=group),
            )
            .order_by("trace_type", "what", "failed_step_name", "-started_at", "-id")
            .distinct("trace_type", "what", "failed_step_name")
        )
        return sorted(latest, key=lambda trace: (trace.started_at, trace.id), reverse=True)

    def failure_groups_since(self, start: datetime | None, cap: int) -> list[ExecutionTrace]:
        """failure_groups() over the newest `cap` failed runs since `start`:
        bounded whatever the table holds (trace_status, read newest first
        and stopped at the cap)."""
        newest = self.failed_runs().started_between(start).newest_first().values("id")[:cap]
        return self.model.objects.filter(id__in=newest).defer("inputs").failure_groups()

    # --- Runs: a root trace with everything it caused -------------------------

    def runs(self) -> ExecutionTraceQuerySet:
        """Root traces: started by a schedule, a person or chat, not by
        another trace. The partial index trace_runs keeps only these rows, so
        a page of runs reads 26 index entries however many traces each run
        caused."""
        return self.exclude(source=TraceSource.DEPENDENCY)

    def newer_than(self, started_at: datetime, trace_id: uuid.UUID) -> ExecutionTraceQuerySet:
        """Traces listed before (started_at, id) newest first: what arrived
        since a page was drawn (trace_list, or trace_runs for runs())."""
        return self.filter(started_at__gte=started_at).exclude(
            started_at=started_at, id__lte=trace_id
        )

    def count_up_to(self, cap: int) -> int:
        """How many, counting no further than `cap` (the index scan stops there)."""
        return self.order_by().values("id")[:cap].count()

    def status_counts(self, cap: int) -> dict[str, int]:
        """How many of these traces have each status, each count stopped at
        `cap`, in one query: one scan of trace_status per status (or of the
        filter's own index), never a count of the whole table."""
        order = [TraceStatus.FAILED, TraceStatus.RUNNING, TraceStatus.PENDING,
                 TraceStatus.ABANDONED, TraceStatus.SUCCEEDED]
        if self.query.is_empty():  # none(): someone in no organization
            return dict.fromkeys(order, 0)
        parts, params = [], []
        for status in order:
            # started_at, not id: the count reads trace_status alone (index-only).
            sql, status_params = (
                self.filter(status=status).order_by().values("started_at")[:cap].query.sql_with_params()
            )
            parts.append(f"(SELECT count(*) FROM ({sql}) AS s)")
            params.extend(status_params)
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(parts)}", params)
            counts = cursor.fetchone()
        return dict(zip(order, counts, strict=True))

    def outcomes(self, limit: int) -> list[tuple[str, datetime, uuid.UUID]]:
        """(status, started_at, id) of the newest `limit` of these, newest
        first: a definition's run history without its rows' JSON. On
        runs_of(subject): trace_subject."""
        return list(self.newest_first().values_list("status", "started_at", "id")[:limit])

    def previous_and_next(self, trace: ExecutionTrace) -> tuple[ExecutionTrace | None, ExecutionTrace | None]:
        """The runs of the same definition just before and after `trace`
        (trace_subject, one row each way)."""
        same = self.filter(subject=trace.subject).only("id", "started_at", "status", "name")
        earlier = same.before_position(trace.started_at, trace.id).newest_first().first()
        later = same.newer_than(trace.started_at, trace.id).order_by("started_at", "id").first()
        return earlier, later

    def before_position(self, started_at: datetime, trace_id: uuid.UUID) -> ExecutionTraceQuerySet:
        """Traces listed after (started_at, id) newest first: the keyset page
        after that row. `started_at <= t` is the trace_list index range;
        excluding the rows at t that are not older by id breaks ties."""
        return self.filter(started_at__lte=started_at).exclude(
            started_at=started_at, id__gte=trace_id
        )

    def oldest_first(self) -> ExecutionTraceQuerySet:
        # trace_list, read backwards
        return self.order_by("started_at", "id")

    def after_position(self, started_at: datetime, trace_id: uuid.UUID) -> ExecutionTraceQuerySet:
        """Traces listed after (started_at, id) oldest first: the keyset page
        after that row, the mirror of before_position (trace_list)."""
        return self.filter(started_at__gte=started_at).exclude(
            started_at=started_at, id__lte=trace_id
        )

    def finished(self) -> ExecutionTraceQuerySet:
        """Traces that have ended, whatever their status."""
        return self.filter(completed_at__isnull=False)

    def first_parent_paths(
        self, trace_ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, int, str, str, uuid.UUID | None]]:
        """(id, org_id, trace_type, name, first parent) of each trace and of
        every trace up its chain of first parents, in one recursive query (a
        primary-key lookup per step). Exporters name a chain by the trace at
        its top: OpenTelemetry shows a chain as one trace."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(_FIRST_PARENTS_SQL, [list(trace_ids), MAX_CHAIN_DEPTH])
            return cursor.fetchall()

    def matching_text(self, text: str) -> ExecutionTraceQuerySet:
        """Name or error containing `text`, or an id starting or ending with
        it (a short id copied from a page finds its trace).

        No trigram index (the embedded server ships without pg_trgm): the scan
        walks the org's trace_list index newest first and stops at the page
        size, so common words are cheap; a word found nowhere reads the whole
        history (~0.35 s at a million traces; a window narrows it)."""
        condition = Q(name__icontains=text) | Q(error__icontains=text)
        by_id = id_fragment_condition(text)
        return self.filter(condition | by_id if by_id is not None else condition)

    def with_id_fragment(self, fragment: str, now: datetime | None = None) -> ExecutionTraceQuerySet:
        """Traces whose id starts with `fragment` (primary key), or else ends
        with it (trace_id_reversed): those of the last week when there are
        any, else all of them."""
        by_prefix = self.filter(id_prefix(fragment.replace("-", "")))
        if by_prefix.exists():
            return by_prefix
        by_suffix = self.filter(id_suffix(fragment))
        recent = by_suffix.filter(started_at__gte=(now or timezone.now()) - RECENT_IDS)
        return recent if recent.exists() else by_suffix

    def only_one(self, shown: str) -> ExecutionTrace:
        """The one trace here; TraceNotFound when there is none or several."""
        found = list(self.order_by("-started_at")[:2])
        if not found:
            raise TraceNotFound(f"No trace id matches “{shown}”.")
        if len(found) > 1:
            raise TraceNotFound(f"Several traces match “{shown}”; give more of the id.")
        return found[0]

    def find_by_id(self, value: str, now: datetime | None = None) -> ExecutionTrace:
        """A trace from a whole id, or a unique prefix or suffix of at least
        six hex digits. TraceNotFound, with a message for the user, otherwise."""
        text = value.strip().lower()
        try:
            trace_id = uuid.UUID(text)
        except ValueError:
            fragment = checked_id_fragment(value)
            return self.with_id_fragment(fragment, now).only_one(text)
        trace = self.filter(pk=trace_id).first()
        if trace is None:
            raise TraceNotFound(f"No trace with id {trace_id}.")
        return trace

    # --- Retention (the prune_traces command) ---------------------------------

    def running_since(self, before: datetime) -> ExecutionTraceQuerySet:
        """Traces still `running` that started before `before` (trace_status)."""
        return self.filter(status=TraceStatus.RUNNING, started_at__lt=before)

    def mark_abandoned(self, reason: str) -> int:
        """Mark these traces abandoned now, on the traces connection."""
        return self.using(TRACE_DB).update(
            status=TraceStatus.ABANDONED, completed_at=timezone.now(), error=reason
        )

    def delete_in_batches(
        self, batch_size: int, progress: Callable[[int], None] | None = None
    ) -> int:
        """Delete these traces a batch at a time, each batch its own short
        transaction (its locks and WAL stay small); returns how many."""
        ids_sql, params = self.order_by().values("id").query.sql_with_params()
        total = 0
        with connections[TRACE_DB].cursor() as cursor:
            while True:
                cursor.execute(
                    f"DELETE FROM execution_traces WHERE id IN ({ids_sql} LIMIT %s)",
                    [*params, batch_size],
                )
                total += cursor.rowcount
                if cursor.rowcount < batch_size:
                    return total
                if progress is not None:
                    progress(total)


class ExecutionTraceManager(models.Manager.from_queryset(ExecutionTraceQuerySet)):
    def traces_of_runs(
        self, roots: Sequence[ExecutionTrace], depth: int, cap: int
    ) -> list[ExecutionTrace]:
        """The traces of these runs (the roots included), each with `run_id`
        (its root's id) and `run_depth`, nearest the root first, in one
        query: a walk down from every root at once, children found through
        the GIN index trace_dependencies. At most `cap` traces and `depth`
        levels; inputs (a workflow's plan) are not read."""
        if not roots:
            return []
        params = {
            "roots": [root.id for root in roots], "org": roots[0].org_id, "depth": depth, "cap": cap,
        }
        return list(self.raw(_RUN_TRACES_SQL, params))

    def latest_outcomes_of(
        self, org_id: int, subjects: Sequence[str], per_subject: int
    ) -> list[tuple[str, str, datetime, uuid.UUID]]:
        """(subject, status, started_at, id) of the latest runs of each
        definition, newest first, in one query: a LATERAL lookup per subject
        on trace_subject, reading no JSON. Used by the Failures page."""
        if not subjects:
            return []
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                """
                SELECT s.subject, t.status, t.started_at, t.id
                FROM unnest(%s::text[]) AS s(subject)
                CROSS JOIN LATERAL (
                    SELECT status, started_at, id FROM execution_traces
                    WHERE org_id = %s AND subject = s.subject
                    ORDER BY started_at DESC LIMIT %s
                ) AS t
                ORDER BY t.started_at DESC
                """,
                [list(subjects), org_id, per_subject],
            )
            return cursor.fetchall()

    def latest_runs_of(
        self, org_id: int, subjects: Sequence[str], per_subject: int
    ) -> list[ExecutionTrace]:
        """The latest runs of each definition, newest first, in one query: a
        LATERAL lookup per subject on trace_subject. Used by the definition lists."""
        return list(
            self.raw(
                """
                SELECT t.* FROM unnest(%s::text[]) AS s(subject)
                CROSS JOIN LATERAL (
                    SELECT * FROM execution_traces
                    WHERE org_id = %s AND subject = s.subject
                    ORDER BY started_at DESC LIMIT %s
                ) AS t
                ORDER BY t.started_at DESC
                """,
                [list(subjects), org_id, per_subject],
            )
        )


# One round trip for a page of runs: on a busy machine a round trip costs
# more than the walk. UNION keeps one row per (trace, run, depth), so the
# work is bounded by traces × depth, and a cycle ends at the depth bound.
_RUN_TRACES_SQL = """
WITH RECURSIVE walk(id, run_id, depth) AS (
    SELECT id, id, 0 FROM execution_traces WHERE id = ANY(%(roots)s) AND org_id = %(org)s
  UNION
    SELECT child.id, walk.run_id, walk.depth + 1
    FROM walk
    JOIN execution_traces AS child ON child.dependencies @> ARRAY[walk.id]
    WHERE walk.depth < %(depth)s AND child.org_id = %(org)s
), found AS (
    SELECT DISTINCT ON (id) id, run_id, depth AS run_depth
    FROM walk ORDER BY id, depth, run_id LIMIT %(cap)s
)
SELECT t.id, t.org_id, t.trace_type, t.source, t.name, t.subject, t.outputs,
       t.dependencies, t.status, t.error, t.started_at, t.completed_at,
       found.run_id, found.run_depth
FROM found JOIN execution_traces AS t
  ON t.id = found.id AND t.id = ANY (ARRAY(SELECT id FROM found))
ORDER BY found.run_depth, t.started_at, t.id
"""


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

    objects = ExecutionTraceManager()

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
            # The trace list's runs (a root trace with what it caused): only
            # the traces no other trace started, newest first.
            models.Index(
                "org",
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="trace_runs",
                condition=~Q(source="dependency"),
            ),
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
        """Exception type and message, without the traceback (secrets masked
        again: a row written before traces were redacted may hold one)."""
        return redact(self.error.split(TRACEBACK_MARKER, 1)[0].strip())

