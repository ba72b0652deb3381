"""Lineage-shaped benchmark data: causal families of traces (chains,
fan-in, fan-out, ten-level run_metric chains) COPYed in bulk into a
benchmark organization, and removed again.
"""
from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from lineage.alerts.models import AlertRule
from lineage.metrics.models import Metric, MetricValue
from lineage.metrics.sandbox import drop_sandbox
from lineage.observability.ids import uuid7
from lineage.observability.models import TraceSource, TraceStatus, TraceType
from lineage.tenancy.models import Membership, Organization
from lineage.workflows.models import Step, Workflow

LARGE_SLUG = "bench"
SMALL_SLUG = "bench-small"
HISTORY = timedelta(days=90)
PROGRESS_EVERY = 50_000
FAN_OUT_ALERTS = 20
DEEP_LEVELS = 10

_COPY_SQL = (
    "COPY execution_traces (id, org_id, trace_type, source, name, subject, inputs,"
    " outputs, dependencies, status, error, started_at, completed_at) FROM STDIN"
)


# --- Shaping the data --------------------------------------------------------


@dataclass
class Probes:
    """Traces of known shape that the figures are measured on."""

    deep: list[uuid.UUID] = field(default_factory=list)  # a 10-level run_metric chain, in order
    fifty_root: uuid.UUID | None = None  # a metric whose lineage has 50 traces
    two_hundred_root: uuid.UUID | None = None  # a metric whose lineage has 200 traces

    @property
    def deep_middle(self) -> uuid.UUID:
        return self.deep[len(self.deep) // 2]

    @property
    def five_level(self) -> uuid.UUID:
        """The second level's metric: metric → alert → workflow → step → metric."""
        return self.deep[4]


class CausalFamily:
    """Builds the rows of one causal family (a metric run and what followed),
    each trace starting a little after its parents, ids ordered like starts."""

    def __init__(self, rng: random.Random, start: datetime, running: bool) -> None:
        self.rng = rng
        self.clock = start
        self.running = running
        self.rows: list[tuple] = []

    def add(
        self,
        trace_type: str,
        name: str,
        subject: str,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        parents: list[uuid.UUID],
        *,
        failed: str = "",
        source: str = TraceSource.SCHEDULE,
    ) -> uuid.UUID:
        self.clock += timedelta(milliseconds=self.rng.randint(1, 40))
        started = self.clock
        trace_id = uuid7(started)
        status, completed = TraceStatus.SUCCEEDED, started + timedelta(
            milliseconds=self.rng.randint(2, 900)
        )
        if failed:
            status = TraceStatus.FAILED
        if self.running:
            status, completed = TraceStatus.RUNNING, None
        self.rows.append(
            (
                trace_id,
                trace_type,
                TraceSource.DEPENDENCY if parents else source,
                name,
                subject,
                Jsonb(inputs),
                Jsonb(outputs if status != TraceStatus.RUNNING else {}),
                parents,
                status,
                failed,
                started,
                completed,
            )
        )
        return trace_id

    def metric(self, number: int, parents: list[uuid.UUID], *, fail: bool = False) -> uuid.UUID:
        value = float(self.rng.randint(100, 20_000))
        error = ""
        if fail:
            error = "MetricError: the query failed: relation \"orders\" does not exist"
        return self.add(
            TraceType.METRIC,
            f"Daily revenue {number}",
            f"metric:{number}",
            {"kind": "sql", "sql": "SELECT sum(total) FROM orders", "schedule": "*/5 * * * *"},
            {} if fail else {"value": value},
            parents,
            failed=error,
        )

    def alert(self, number: int, parent: uuid.UUID, fired: bool) -> uuid.UUID:
        threshold = 10_000.0
        value = threshold + (500.0 if fired else -500.0)
        return self.add(
            TraceType.ALERT,
            f"Revenue spike {number}",
            f"alert:{number}",
            {"metric": "Daily revenue", "value": value, "operator": ">",
             "threshold": threshold, "severity": "warning"},
            {"fired": fired, "margin": value - threshold,
             "workflows": [f"Notify on-call {number}"] if fired else []},
            [parent],
        )

    def workflow(
        self, number: int, parents: list[uuid.UUID], steps: int, *, fail: bool = False,
        run_metric: bool = False,
    ) -> tuple[uuid.UUID, list[uuid.UUID]]:
        name = f"Notify on-call {number}"
        outputs: dict[str, Any] = {"steps_run": steps}
        error = ""
        if fail:
            outputs["failed_step"] = {"position": steps, "name": "Post to chat", "kind": "webhook"}
            error = "StepFailed: step 2 “Post to chat” failed: HTTP 502 from the chat server"
        workflow_id = self.add(
            TraceType.WORKFLOW, name, f"workflow:{number}",
            {"context": {"alert": f"Revenue spike {number}"}, "steps": steps},
            outputs, parents, failed=error,
        )
        step_ids = []
        for position in range(1, steps + 1):
            last = position == steps
            kind = "run_metric" if run_metric and last else ("webhook" if last else "log")
            step_error = "HTTPError: HTTP 502 from the chat server" if fail and last else ""
            step_ids.append(
                self.add(
                    TraceType.STEP,
                    "Re-run upstream metric" if kind == "run_metric" else f"Step {position}",
                    f"step:{number * 10 + position}",
                    {"workflow": name, "position": position, "kind": kind, "config": {}},
                    {"message": "revenue is high"} if kind == "log" else {},
                    [workflow_id],
                    failed=step_error,
                )
            )
        return workflow_id, step_ids


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


# Failure rates per engine run: about 3 % of all traces end failed.
_METRIC_FAILS = 0.10
_WORKFLOW_FAILS = 0.10
_RUNNING = 0.002


def _basic(family: CausalFamily, n: int) -> None:
    """metric → one or two alerts → (the first fires) workflow → 2–3 steps."""
    rng = family.rng
    metric = family.metric(n, [], fail=_chance(rng, _METRIC_FAILS))
    if family.rows[-1][8] == TraceStatus.FAILED:
        return
    alert = family.alert(n, metric, fired=True)
    if _chance(rng, 0.5):
        family.alert(n + 1, metric, fired=False)
    family.workflow(n, [alert], rng.choice((2, 3)), fail=_chance(rng, _WORKFLOW_FAILS))


def _fan_in(family: CausalFamily, n: int) -> None:
    """Two metrics' alerts fire the same workflow run: it has two parents."""
    first = family.alert(n, family.metric(n, []), fired=True)
    second = family.alert(n + 1, family.metric(n + 1, []), fired=True)
    family.workflow(n, [first, second], 2, fail=_chance(family.rng, _WORKFLOW_FAILS))


def _fan_out(family: CausalFamily, n: int) -> None:
    """One metric with 20 alerts; one fires."""
    metric = family.metric(n, [])
    alerts = [family.alert(n + i, metric, fired=i == 0) for i in range(FAN_OUT_ALERTS)]
    family.workflow(n, [alerts[0]], 2, fail=_chance(family.rng, _WORKFLOW_FAILS))


def _deep(family: CausalFamily, n: int) -> list[uuid.UUID]:
    """Ten levels of metric → alert → workflow → run_metric step → metric …"""
    chain: list[uuid.UUID] = []
    parents: list[uuid.UUID] = []
    for level in range(DEEP_LEVELS):
        metric = family.metric(n + level, parents)
        alert = family.alert(n + level, metric, fired=True)
        workflow, steps = family.workflow(n + level, [alert], 2, run_metric=True)
        chain += [metric, alert, workflow, steps[-1]]
        parents = [steps[-1]]
    return chain


def _wide(family: CausalFamily, n: int, alerts: int, steps: list[int]) -> uuid.UUID:
    """A metric whose alerts all fire, each a workflow with `steps[i]` steps."""
    metric = family.metric(n, [])
    for i in range(alerts):
        alert = family.alert(n + i, metric, fired=True)
        family.workflow(n + i, [alert], steps[i])
    return metric


# Share of families by kind (by count, not rows).
_KINDS = [(_basic, 0.80), (_fan_in, 0.10), (_fan_out, 0.06), (_deep, 0.04)]


def generate(total: int, seed: int, now: datetime, probes: Probes) -> Iterator[list[tuple]]:
    """Families of rows, oldest first, until `total` rows (a family may end a
    few rows over). Start times spread evenly over the last 90 days; the
    probes sit in the middle of that history."""
    rng = random.Random(seed)
    start = now - HISTORY
    span = HISTORY - timedelta(minutes=5)
    kinds, weights = zip(*_KINDS, strict=True)
    written = number = 0
    probes_done = False
    while written < total:
        at = start + span * (written / total)
        family = CausalFamily(rng, at, running=_chance(rng, _RUNNING))
        number += 100
        if not probes_done and written >= total // 2:
            family.running = False
            probes.deep = _deep(family, number)
            probes.fifty_root = _wide(family, number + 20, 7, [5] * 7)
            probes.two_hundred_root = _wide(family, number + 60, 20, [8] * 19 + [7])
            probes_done = True
        else:
            rng.choices(kinds, weights)[0](family, number)
        written += len(family.rows)
        yield family.rows


# --- Loading -----------------------------------------------------------------


def create_org(slug: str) -> Organization:
    """A fresh benchmark organization (one left by an earlier --keep is removed)."""
    existing = Organization.objects.filter(slug=slug).first()
    if existing is not None:
        remove_org(existing.pk)
    return Organization.objects.create(slug=slug, name=f"Benchmark ({slug})")


def load_traces(
    org: Organization, total: int, *, seed: int = 1, progress: TextIO = sys.stderr
) -> tuple[int, Probes]:
    """COPY `total` lineage-shaped traces into the organization, then ANALYZE."""
    probes = Probes()
    now = timezone.now()
    loaded = next_report = 0

    def families() -> Iterator[tuple]:
        nonlocal loaded, next_report
        for rows in generate(total, seed, now, probes):
            yield from rows
            loaded += len(rows)
            if loaded >= next_report + PROGRESS_EVERY:
                next_report = loaded - loaded % PROGRESS_EVERY
                progress.write(f"  {org.slug}: {loaded:,} / {total:,} traces loaded\n")
                progress.flush()

    copy_rows(org, families())
    # VACUUM as well as ANALYZE: a million fresh rows would otherwise start
    # autovacuum in the middle of the measurements.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) execution_traces")
    _checkpoint()
    progress.write(f"  {org.slug}: {loaded:,} traces loaded and analyzed\n")
    return loaded, probes


def copy_rows(org: Organization, rows) -> None:
    """COPY rows made by CausalFamily into the organization's traces."""
    raw = connection.cursor().connection
    with raw.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
        for row in rows:
            copy.write_row((row[0], org.pk, *row[1:]))


def _checkpoint() -> None:
    """Write the load's dirty pages out now (a second or two), rather than
    during the measurements, where the write-back of a gigabyte slows every
    commit's WAL flush. Needs a superuser or pg_checkpoint; without, skipped."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def remove_org(org_id: int) -> None:
    """Raw deletes by organization: the ORM's cascade would fetch a million
    traces to delete them one batch at a time."""
    rule_workflows = AlertRule.workflows.through._meta.db_table
    statements = [
        "DELETE FROM execution_traces WHERE org_id = %s",
        f"DELETE FROM {MetricValue._meta.db_table} WHERE metric_id IN"
        f" (SELECT id FROM {Metric._meta.db_table} WHERE organization_id = %s)",
        f"DELETE FROM {rule_workflows} WHERE alertrule_id IN"
        f" (SELECT id FROM {AlertRule._meta.db_table} WHERE organization_id = %s)",
        f"DELETE FROM {AlertRule._meta.db_table} WHERE organization_id = %s",
        f"DELETE FROM {Step._meta.db_table} WHERE workflow_id IN"
        f" (SELECT id FROM {Workflow._meta.db_table} WHERE organization_id = %s)",
        f"DELETE FROM {Workflow._meta.db_table} WHERE organization_id = %s",
        f"DELETE FROM {Metric._meta.db_table} WHERE organization_id = %s",
        f"DELETE FROM {Membership._meta.db_table} WHERE organization_id = %s",
        f"DELETE FROM {Organization._meta.db_table} WHERE id = %s",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, [org_id])
    drop_sandbox(org_id)
