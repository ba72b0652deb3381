"""The `bench` command's work: load lineage-shaped traces in bulk, time what
users and engines do with them, and check the lineage queries' plans.

Everything happens inside benchmark organizations created for the run (and
removed afterwards unless asked to keep them), in whatever database the
project is configured for.
"""
from __future__ import annotations

import logging
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from psycopg.types.json import Jsonb

from lineage.observability.ids import uuid7
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType
from lineage.tenancy.models import Organization

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


class _Family:
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


def _basic(family: _Family, n: int) -> None:
    """metric → one or two alerts → (the first fires) workflow → 2–3 steps."""
    rng = family.rng
    metric = family.metric(n, [], fail=_chance(rng, _METRIC_FAILS))
    if family.rows[-1][8] == TraceStatus.FAILED:
        return
    alert = family.alert(n, metric, fired=True)
    if _chance(rng, 0.5):
        family.alert(n + 1, metric, fired=False)
    family.workflow(n, [alert], rng.choice((2, 3)), fail=_chance(rng, _WORKFLOW_FAILS))


def _fan_in(family: _Family, n: int) -> None:
    """Two metrics' alerts fire the same workflow run: it has two parents."""
    first = family.alert(n, family.metric(n, []), fired=True)
    second = family.alert(n + 1, family.metric(n + 1, []), fired=True)
    family.workflow(n, [first, second], 2, fail=_chance(family.rng, _WORKFLOW_FAILS))


def _fan_out(family: _Family, n: int) -> None:
    """One metric with 20 alerts; one fires."""
    metric = family.metric(n, [])
    alerts = [family.alert(n + i, metric, fired=i == 0) for i in range(FAN_OUT_ALERTS)]
    family.workflow(n, [alerts[0]], 2, fail=_chance(family.rng, _WORKFLOW_FAILS))


def _deep(family: _Family, n: int) -> list[uuid.UUID]:
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


def _wide(family: _Family, n: int, alerts: int, steps: list[int]) -> uuid.UUID:
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
        family = _Family(rng, at, running=_chance(rng, _RUNNING))
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
    raw = connection.cursor().connection
    loaded = next_report = 0
    with raw.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
        for rows in generate(total, seed, now, probes):
            for row in rows:
                copy.write_row((row[0], org.pk, *row[1:]))
            loaded += len(rows)
            if loaded >= next_report + PROGRESS_EVERY:
                next_report = loaded - loaded % PROGRESS_EVERY
                progress.write(f"  {org.slug}: {loaded:,} / {total:,} traces loaded\n")
                progress.flush()
    # VACUUM as well as ANALYZE: a million fresh rows would otherwise start
    # autovacuum in the middle of the measurements.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) execution_traces")
    _checkpoint()
    progress.write(f"  {org.slug}: {loaded:,} traces loaded and analyzed\n")
    return loaded, probes


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
    from lineage.alerts.models import AlertRule
    from lineage.metrics.models import Metric, MetricValue
    from lineage.tenancy.models import Membership
    from lineage.workflows.models import Step, Workflow

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


# --- Measuring ---------------------------------------------------------------


@dataclass
class Figure:
    """One line of the result table. Timings are milliseconds; a ratio or a
    rate has no p95."""

    name: str
    median: float | None
    p95: float | None
    unit: str
    target: str
    passed: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "median": _rounded(self.median),
            "p95": _rounded(self.p95),
            "unit": self.unit,
            "target": self.target,
            "pass": self.passed,
            "note": self.note,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(action: Callable[[], object], repetitions: int, *, warm_up: int = 2) -> list[float]:
    """Milliseconds per call, after a few untimed warm-up calls."""
    for _ in range(warm_up):
        action()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def timing_figure(name: str, samples: list[float], limit_ms: float, note: str = "") -> Figure:
    high = p95(samples)
    return Figure(name, median(samples), high, "ms", f"p95 ≤ {limit_ms:g} ms", high <= limit_ms, note)


def ratio_figure(name: str, ratio: float, target: str, passed: bool, note: str = "") -> Figure:
    return Figure(name, ratio, None, "×", target, passed, note)


@dataclass(frozen=True)
class Plan:
    """How hard to measure: sizes, repetitions, scheduler metrics."""

    large: int
    small: int
    repetitions: int = 200
    page_repetitions: int = 100
    svg_repetitions: int = 10
    tracer_repetitions: int = 1000
    scheduler_metrics: int = 1000
    scheduler_rounds: int = 5
    seed: int = 1


# --- The tracer: with_trace against the bare SQL it issues ----------------------

_RAW_INSERT = (
    "INSERT INTO execution_traces (id, org_id, trace_type, source, name, subject, inputs,"
    " outputs, dependencies, status, error, started_at)"
    " VALUES (%s, %s, 'step', 'manual', 'bench', '', %s, '{}', %s, 'running', '', now())"
)
_RAW_UPDATE = (
    "UPDATE execution_traces SET outputs = %s, completed_at = now(), status = 'succeeded'"
    " WHERE id = %s"
)


def raw_connection() -> psycopg.Connection:
    """A plain psycopg connection to the traces database, in autocommit."""
    params = connections["traces"].get_connection_params()
    params = {k: v for k, v in params.items() if k not in {"cursor_factory", "context"}}
    return psycopg.connect(**params, autocommit=True)


def measure_tracer(org: Organization, repetitions: int) -> Figure:
    from lineage.observability.tracer import trace_scope, with_trace

    raw = raw_connection()

    def traced() -> None:
        with with_trace(TraceType.STEP, name="bench", inputs={"n": 1}) as handle:
            handle.outputs["ok"] = True

    def bare() -> None:
        trace_id = uuid7()
        raw.execute(_RAW_INSERT, [trace_id, org.pk, Jsonb({"n": 1}), []])
        raw.execute(_RAW_UPDATE, [Jsonb({"ok": True}), trace_id])

    traced_ms: list[float] = []
    bare_ms: list[float] = []
    try:
        with trace_scope(org=org):
            for action in (traced, bare) * 5:
                action()
            # Alternated, so a slow moment of the machine hits both sides.
            for _ in range(repetitions):
                traced_ms += timed(traced, 1, warm_up=0)
                bare_ms += timed(bare, 1, warm_up=0)
    finally:
        raw.close()
    ratio = median(traced_ms) / median(bare_ms)
    note = (
        f"with_trace median {median(traced_ms):.3f} ms, p95 {p95(traced_ms):.3f}; "
        f"raw INSERT+UPDATE median {median(bare_ms):.3f} ms, p95 {p95(bare_ms):.3f}"
    )
    return ratio_figure("tracer: with_trace ÷ raw INSERT+UPDATE", ratio, "≤ 1.5", ratio <= 1.5, note)


# --- Lineage, explanation, plans -------------------------------------------------


def measure_short_ids(org: Organization, repetitions: int) -> Figure:
    """The 8-digit short id the pages show, looked up as the commands and the
    assistant do: for the oldest trace (not among last week's, the first
    place looked) and for one that matches nothing (every place looked)."""
    from lineage.observability.store import TraceNotFound
    from lineage.observability.trace_ids import find_trace_by_id

    traces = ExecutionTrace.objects.filter(org=org)
    oldest = traces.order_by("started_at").values_list("id", flat=True)[0]
    unknown = "0" * 8 if not str(oldest).endswith("0" * 8) else "1" * 8

    def look_up_both() -> None:
        assert find_trace_by_id(str(oldest)[-8:], traces).id == oldest
        try:
            find_trace_by_id(unknown, traces)
        except TraceNotFound:
            pass

    samples = timed(look_up_both, repetitions)
    return timing_figure(
        "short id lookup: a 90-day-old trace + a miss", samples, 10, "last 8 digits of an id"
    )


def lineage_samples(root: uuid.UUID, repetitions: int) -> list[float]:
    from lineage.observability.store import get_trace_lineage

    return timed(lambda: get_trace_lineage(root, "both", 20), repetitions)


def measure_explanation(root: uuid.UUID, repetitions: int) -> Figure:
    from lineage.observability.explain import generate_explanation

    steps = len(generate_explanation(root).steps)
    samples = timed(lambda: generate_explanation(root), repetitions)
    return timing_figure(
        "explanation of a five-level chain", samples, 10, f"{steps} traces in the chain"
    )


def _plan_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def lineage_plan_problems(root: uuid.UUID, depth: int = 20) -> list[str]:
    """What is wrong with the lineage queries' plans for this root: a
    sequential scan of execution_traces, or children not found through the
    GIN index on dependencies. Empty when both plans are right."""
    from lineage.observability.store import _ANCESTORS_SQL, _DESCENDANTS_SQL

    problems = []
    for label, sql in (("ancestors", _ANCESTORS_SQL), ("descendants", _DESCENDANTS_SQL)):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, {"root": root, "depth": depth})
            document = cursor.fetchone()[0]
        if isinstance(document, str):
            import json

            document = json.loads(document)
        nodes = list(_plan_nodes(document[0]["Plan"]))
        if any(
            n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "execution_traces"
            for n in nodes
        ):
            problems.append(f"{label}: sequential scan of execution_traces")
        if label == "descendants" and not any(
            n.get("Index Name") == "trace_dependencies" for n in nodes
        ):
            problems.append("descendants: children not found with the GIN index trace_dependencies")
    return problems


def measure_plans(root: uuid.UUID) -> Figure:
    problems = lineage_plan_problems(root)
    return Figure(
        "lineage query plans",
        None,
        None,
        "",
        "index scans only; GIN for children",
        not problems,
        "; ".join(problems) or "index scans; descendants through trace_dependencies",
    )


# --- Pages -----------------------------------------------------------------------


def bench_client(org: Organization) -> tuple[Client, Any]:
    """A test client signed in as a fresh viewer of the benchmark organization."""
    from lineage.tenancy.models import Membership, Role

    user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:12]}")
    Membership.objects.create(user=user, organization=org, role=Role.VIEWER)
    client = Client()
    client.force_login(user)
    return client, user


def _get(client: Client, url: str, **headers: str) -> Callable[[], None]:
    def fetch() -> None:
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        b"".join(response) if response.streaming else response.content

    return fetch


def deep_cursor(org: Organization, page: int) -> str:
    """The cursor a reader holds after paging to `page` (the last row of the
    page before it), found with one query."""
    from lineage.web.trace_filters import PAGE_SIZE, Cursor

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT started_at, id FROM execution_traces WHERE org_id = %s"
            " ORDER BY started_at DESC, id DESC OFFSET %s LIMIT 1",
            [org.pk, (page - 1) * PAGE_SIZE - 1],
        )
        started_at, trace_id = cursor.fetchone()
    return Cursor(started_at, trace_id).encode()


def measure_trace_list(client: Client, org: Organization, repetitions: int, total: int) -> list[Figure]:
    from lineage.web.trace_filters import PAGE_SIZE

    # Page 1,000 when there are that many; the deepest full page of a small run.
    deep = min(1000, max(2, total // PAGE_SIZE - 1))
    base = reverse("web:trace-list")
    urls = {
        "first": base,
        "filtered": f"{base}?status=failed&type=workflow&window=24h",
        "deep": f"{base}?cursor={deep_cursor(org, deep)}",
    }
    samples = {label: timed(_get(client, url), repetitions) for label, url in urls.items()}
    figures = [
        timing_figure("trace list: first page", samples["first"], 50),
        timing_figure("trace list: status+type+24h", samples["filtered"], 50),
        timing_figure(f"trace list: page {deep:,}", samples["deep"], 50),
    ]
    ratio = median(samples["deep"]) / median(samples["first"])
    figures.append(ratio_figure(f"trace list: page {deep:,} ÷ first", ratio, "≤ 1.5", ratio <= 1.5))
    return figures


def measure_trace_detail(client: Client, root: uuid.UUID, repetitions: int) -> list[Figure]:
    """The page, then the lineage SVG its panel loads (as HTMX asks for it)."""
    from lineage.web.graph_views import DEFAULT_DEPTH

    page = _get(client, reverse("web:trace-detail", args=[root]))
    svg_url = reverse("web:trace-lineage-svg", args=[root]) + f"?depth={DEFAULT_DEPTH}"
    svg = _get(client, svg_url, HTTP_HX_REQUEST="true")

    def cold() -> None:
        cache.clear()
        page()
        svg()

    def warm() -> None:
        page()
        svg()

    cold_ms = timed(cold, repetitions)
    warm_ms = timed(warm, repetitions)
    return [
        timing_figure("trace detail + 50-node lineage SVG", cold_ms, 150, "SVG drawn each time"),
        timing_figure("trace detail + SVG, repeat view", warm_ms, 30, "SVG from the cache"),
    ]


def measure_big_svg(root: uuid.UUID, repetitions: int) -> list[Figure]:
    from lineage.observability.graph import lineage_to_dot, render_svg
    from lineage.observability.store import get_trace_lineage
    from lineage.web.graph_views import trace_url

    lineage = get_trace_lineage(root, "both", 5)
    size = len(lineage.nodes)
    samples = timed(lambda: render_svg(lineage_to_dot(lineage, url_for=trace_url)), repetitions, warm_up=1)
    dot = lineage_to_dot(lineage, url_for=trace_url)
    cap = settings.LINEAGE_GRAPH_NODE_CAP
    # Node statements, not edges ("a -> b"): traces drawn, and "+N more" summaries.
    drawn = len(re.findall(r"^\s*t[0-9a-f]{32} \[", dot, re.MULTILINE))
    summaries = re.findall(r"^\s*more_\w+ \[label=\"([^\"]*)\"", dot, re.MULTILINE)
    collapsed = size > cap and drawn <= cap and bool(summaries)
    return [
        timing_figure(f"lineage SVG of {size} nodes", samples, 1000, "drawn by Graphviz, uncached"),
        Figure(
            f"node cap ({cap}): {size} nodes collapse",
            None,
            None,
            "",
            "“+N more” summaries",
            collapsed,
            f"{drawn} traces drawn; summaries: {', '.join(summaries) or 'none'}",
        ),
    ]


# --- The scheduler ---------------------------------------------------------------

# The benchmark's metrics are due at a moment far ahead, so a scheduler
# running for real on the same database (cron) never takes them; the
# benchmark's schedulers run at that moment for its organization only, so
# they take nothing else.
SCHEDULER_NOW = datetime(2999, 1, 1, tzinfo=UTC)


def create_scheduled_chains(org: Organization, count: int) -> None:
    """`count` due metrics (SELECT 42), each with an alert that fires and a
    two-step log workflow."""
    from lineage.alerts.models import AlertRule
    from lineage.metrics.models import Metric
    from lineage.workflows.models import Step, Workflow

    metrics = Metric.objects.bulk_create(
        Metric(organization=org, name=f"Bench metric {i}", sql="SELECT 42",
               schedule="*/5 * * * *", next_run_at=SCHEDULER_NOW)
        for i in range(count)
    )
    workflows = Workflow.objects.bulk_create(
        Workflow(organization=org, name=f"Bench workflow {i}") for i in range(count)
    )
    Step.objects.bulk_create(
        Step(workflow=workflow, position=position, kind="log", name=f"Log {position}",
             config={"message": "$metric is $value"})
        for workflow in workflows
        for position in (1, 2)
    )
    rules = AlertRule.objects.bulk_create(
        AlertRule(organization=org, name=f"Bench alert {i}", metric=metric, operator=">",
                  threshold=0)
        for i, metric in enumerate(metrics)
    )
    AlertRule.workflows.through.objects.bulk_create(
        AlertRule.workflows.through(alertrule_id=rule.pk, workflow_id=workflow.pk)
        for rule, workflow in zip(rules, workflows, strict=True)
    )


def _make_due(org: Organization) -> None:
    from lineage.metrics.models import Metric

    Metric.objects.filter(organization=org).update(next_run_at=SCHEDULER_NOW)


def _run_in_process(org: Organization, count: int) -> float:
    from lineage.execution.scheduler import run_due

    # As in the subprocesses (LOG_LEVEL=WARNING): the log steps would
    # otherwise print two lines per chain into the benchmark's output.
    logger = logging.getLogger("lineage")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        started = time.perf_counter()
        runs = run_due(SCHEDULER_NOW, organization=org)
        elapsed = time.perf_counter() - started
    finally:
        logger.setLevel(level)
    fired = sum(1 for run in runs if run.succeeded and any(a.fired for a in run.alerts))
    if fired != count:
        raise RuntimeError(f"the scheduler ran {fired} fired chains, expected {count}")
    return elapsed


def _run_processes(org: Organization, processes: int) -> float:
    """Seconds from launching `processes` run_scheduler commands together
    until the last one exits."""
    command = [
        sys.executable, str(settings.BASE_DIR / "manage.py"), "run_scheduler",
        "--now", SCHEDULER_NOW.isoformat(), "--org", org.slug,
    ]
    started = time.perf_counter()
    children = [
        subprocess.Popen(command, env=_scheduler_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, cwd=settings.BASE_DIR)
        for _ in range(processes)
    ]
    failures = []
    for child in children:
        _, stderr = child.communicate()
        if child.returncode != 0:
            failures.append(stderr.decode(errors="replace")[-2000:])
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError("run_scheduler failed:\n" + "\n".join(failures))
    return elapsed


def _scheduler_env() -> dict[str, str]:
    """This process's environment, pointed at the database this process uses
    (under pytest that is the test database, not the configured one)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(str(db["HOST"] or "localhost"), safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    url = f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
    return {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}


def _chains_ran(org: Organization, since: datetime) -> tuple[int, float]:
    """Workflows that succeeded since `since`, and the seconds from the first
    trace the schedulers wrote to the last one they finished."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE trace_type = 'workflow' AND status = 'succeeded'),"
            " extract(epoch FROM max(completed_at) - min(started_at))"
            " FROM execution_traces WHERE org_id = %s AND started_at >= %s",
            [org.pk, since],
        )
        ran, window = cursor.fetchone()
    return ran, float(window or 0)


@dataclass
class SchedulerRound:
    """One run of `processes` run_scheduler commands over the due metrics."""

    processes: int
    work_rate: float  # chains/s from the first trace written to the last one finished
    wall_rate: float  # chains/s from launching the processes until the last exits


def _processes_round(org: Organization, count: int, processes: int) -> SchedulerRound:
    _make_due(org)
    since = timezone.now()
    elapsed = _run_processes(org, processes)
    ran, window = _chains_ran(org, since)
    if ran != count:
        raise RuntimeError(f"{processes} scheduler process(es) ran {ran} chains, expected {count}")
    return SchedulerRound(processes, count / max(window, 1e-6), count / elapsed)


def measure_scheduler(org: Organization, count: int, rounds: int) -> list[Figure]:
    """Chains per second of run_due in this process, of one run_scheduler
    process and of two sharing the same due metrics.

    The processes' rates are taken over their work (first trace written to
    last finished), which is what a second process can share; the wall-clock
    rates, which add Python's and Django's start-up (about half a second per
    process), are in the notes.
    """
    create_scheduled_chains(org, count)
    # Alternated rounds, medians compared: one busy moment of a shared
    # machine would otherwise decide a figure.
    in_process: list[float] = []
    by_processes: dict[int, list[SchedulerRound]] = {1: [], 2: []}
    for _ in range(rounds):
        _make_due(org)
        in_process.append(count / _run_in_process(org, count))
        for processes in (1, 2):
            by_processes[processes].append(_processes_round(org, count, processes))
    work = {n: median([r.work_rate for r in rs]) for n, rs in by_processes.items()}
    wall = {n: median([r.wall_rate for r in rs]) for n, rs in by_processes.items()}
    ratio = work[2] / work[1]

    def shown(processes: int) -> str:
        runs = by_processes[processes]
        return (f"rounds: {_listed([r.work_rate for r in runs])}; with start-up: "
                f"{_listed([r.wall_rate for r in runs])} (median {wall[processes]:.0f})")

    return [
        Figure(f"scheduler: {count:,} chains, one process", median(in_process), None,
               "chains/s", "≥ 100 chains/s", median(in_process) >= 100,
               f"run_due in this process; rounds: {_listed(in_process)}"),
        Figure("scheduler: one run_scheduler process", work[1], None, "chains/s", "", True,
               shown(1)),
        Figure("scheduler: two run_scheduler processes", work[2], None, "chains/s", "", True,
               shown(2)),
        ratio_figure("scheduler: two processes ÷ one", ratio, "≥ 1.6", ratio >= 1.6,
                     f"medians of {rounds} alternated round(s); with start-up "
                     f"{wall[2] / wall[1]:.2f}×"),
    ]


def _listed(rates: list[float]) -> str:
    return ", ".join(f"{rate:.0f}" for rate in rates)


# --- The whole run -----------------------------------------------------------------


@dataclass
class Result:
    figures: list[Figure]
    sizes: dict[str, int]
    database: str

    @property
    def passed(self) -> bool:
        return all(figure.passed for figure in self.figures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "sizes": self.sizes,
            "figures": [figure.as_dict() for figure in self.figures],
            "passed": self.passed,
        }


def describe_database() -> str:
    settings_dict = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    where = settings_dict.get("HOST") or "local socket"
    if str(where).startswith("/"):
        where = "embedded server (unix socket)"
    return f"PostgreSQL {version}, {where}, database {settings_dict.get('NAME')}"


def run(plan: Plan, *, keep: bool = False, progress: TextIO = sys.stderr) -> Result:
    """Load both sizes, measure, and (unless `keep`) remove what was created."""
    say = _say(progress)
    created: list[Organization] = []
    users = []
    figures: list[Figure] = []
    sizes: dict[str, int] = {}
    try:
        say(f"Loading the small size ({plan.small:,} traces)…")
        small = create_org(SMALL_SLUG)
        created.append(small)
        sizes["small"], small_probes = load_traces(small, plan.small, seed=plan.seed + 1, progress=progress)
        say("Measuring lineage at the small size…")
        small_lineage = lineage_samples(small_probes.deep_middle, plan.repetitions)

        say(f"Loading the large size ({plan.large:,} traces)…")
        large = create_org(LARGE_SLUG)
        created.append(large)
        sizes["large"], probes = load_traces(large, plan.large, seed=plan.seed, progress=progress)

        say("Measuring the tracer…")
        figures.append(measure_tracer(large, plan.tracer_repetitions))
        say("Measuring lineage and explanations…")
        large_lineage = lineage_samples(probes.deep_middle, plan.repetitions)
        figures.append(timing_figure(
            f"lineage up+down, depth 20, {plan.large:,} traces", large_lineage, 5,
            "middle of a 10-level run_metric chain"))
        ratio = median(large_lineage) / median(small_lineage)
        figures.append(ratio_figure(
            f"lineage {plan.large:,} ÷ {plan.small:,} traces", ratio, "≤ 1.5",
            ratio <= 1.5, f"small: median {median(small_lineage):.3f} ms"))
        figures.append(measure_explanation(probes.five_level, plan.repetitions))
        figures.append(measure_plans(probes.deep_middle))
        figures.append(measure_short_ids(large, plan.repetitions))

        say("Measuring pages…")
        client, user = bench_client(large)
        users.append(user)
        figures += measure_trace_list(client, large, plan.page_repetitions, plan.large)
        figures += measure_trace_detail(client, probes.fifty_root, max(10, plan.page_repetitions // 2))
        figures += measure_big_svg(probes.two_hundred_root, plan.svg_repetitions)
        client.logout()

        say(f"Measuring the scheduler ({plan.scheduler_metrics:,} metrics)…")
        figures += measure_scheduler(large, plan.scheduler_metrics, plan.scheduler_rounds)
    finally:
        for user in users:
            user.delete()
        if not keep:
            say("Removing the benchmark organizations…")
            for org in created:
                remove_org(org.pk)
    return Result(figures, sizes, describe_database())


def _say(progress: TextIO) -> Callable[[str], None]:
    def say(message: str) -> None:
        progress.write(message + "\n")
        progress.flush()

    return say


def format_table(result: Result) -> str:
    header = ("figure", "median", "p95", "target", "result")
    rows = [header]
    for figure in result.figures:
        rows.append((
            figure.name,
            _shown(figure.median, figure.unit),
            _shown(figure.p95, figure.unit),
            figure.target or "—",
            ("pass" if figure.passed else "FAIL") if figure.target else "info",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    notes = [f"  {f.name}: {f.note}" for f in result.figures if f.note]
    sizes = ", ".join(f"{k} {v:,}" for k, v in result.sizes.items())
    return "\n".join([f"{result.database}; traces: {sizes}", "", *lines, "", "Notes:", *notes])


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:,.0f} {unit}"
