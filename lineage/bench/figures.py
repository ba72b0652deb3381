"""The figures measured on the loaded traces: the tracer, lineage,
explanations, query plans, short ids, and the pages people open."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from psycopg.types.json import Jsonb

from lineage.bench.sink import Sink
from lineage.bench.timing import Figure, median, p95, ratio_figure, timed, timing_figure
from lineage.export.live import live_export
from lineage.observability.explain import generate_explanation
from lineage.observability.graph import DEFAULT_GRAPH_DEPTH, lineage_to_dot
from lineage.observability.ids import TraceNotFound, uuid7
from lineage.observability.listeners import add_trace_listener, remove_trace_listener
from lineage.observability.models import ExecutionTrace, TraceType
from lineage.observability.store import get_trace_lineage, lineage_plan_problems
from lineage.observability.svg import render_svg
from lineage.observability.tracer import trace_scope, with_trace
from lineage.tenancy.models import Membership, Organization, Role
from lineage.web.rendering import trace_url
from lineage.web.trace_filters import PAGE_SIZE, Cursor

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


# Runs between two flushes of the export: far fewer than its thread gathers
# in SEND_DELAY_SECONDS, so its work never overlaps a timed run.
FLUSH_EVERY = 20


def measure_export(org: Organization, repetitions: int) -> Figure:
    """with_trace of a metric run with the live export on (OpenTelemetry and
    OpenLineage, to a loopback endpoint in another process) against the same
    with it off."""
    sink = Sink()
    export = live_export(otlp_endpoint=sink.url, openlineage_url=sink.url)
    remove_trace_listener(export)

    def traced() -> None:
        inputs = {"sql": "SELECT 42", "reads": ["public.bench"]}
        with with_trace(TraceType.METRIC, name="bench export", inputs=inputs) as handle:
            handle.outputs["value"] = 42

    def exported() -> None:
        add_trace_listener(export)
        try:
            traced()
        finally:
            remove_trace_listener(export)

    on_ms: list[float] = []
    off_ms: list[float] = []
    export_cpu = 0.0
    try:
        with trace_scope(org=org):
            for action in (exported, traced) * 5:
                action()
            for number in range(repetitions):
                if number % FLUSH_EVERY == 0:
                    # The export thread's work, done now and timed apart: what
                    # it costs lands between runs, never inside one.
                    started = time.process_time()
                    export.flush(30)
                    export_cpu += time.process_time() - started
                on_ms += timed(exported, 1, warm_up=0)  # alternated, as for the tracer
                off_ms += timed(traced, 1, warm_up=0)
            started = time.process_time()
            export.flush(30)
            export_cpu += time.process_time() - started
    finally:
        export.close()
        sink.close()
    ratio = median(on_ms) / median(off_ms)
    note = (
        f"export on median {median(on_ms):.3f} ms, p95 {p95(on_ms):.3f}; "
        f"off median {median(off_ms):.3f} ms, p95 {p95(off_ms):.3f}; the export thread's "
        f"CPU, between runs: {export_cpu * 1000 / (repetitions + 5):.3f} ms per run"
    )
    return ratio_figure("tracer: with_trace, export on ÷ off", ratio, "≤ 1.2", ratio <= 1.2, note)


# --- Lineage, explanation, plans -------------------------------------------------


def measure_short_ids(org: Organization, repetitions: int) -> Figure:
    """The 8-digit short id the pages show, looked up as the commands and the
    assistant do: for the oldest trace (not among last week's, the first
    place looked) and for one that matches nothing (every place looked)."""
    traces = ExecutionTrace.objects.for_org(org)
    oldest = traces.order_by("started_at").values_list("id", flat=True)[0]
    unknown = "0" * 8 if not str(oldest).endswith("0" * 8) else "1" * 8

    def look_up_both() -> None:
        assert traces.find_by_id(str(oldest)[-8:]).id == oldest
        try:
            traces.find_by_id(unknown)
        except TraceNotFound:
            pass

    samples = timed(look_up_both, repetitions)
    return timing_figure(
        "short id lookup: a 90-day-old trace + a miss", samples, 10, "last 8 digits of an id"
    )


def lineage_samples(root: uuid.UUID, repetitions: int) -> list[float]:
    return timed(lambda: get_trace_lineage(root, "both", 20), repetitions)


def measure_explanation(root: uuid.UUID, repetitions: int) -> Figure:
    steps = len(generate_explanation(root).steps)
    samples = timed(lambda: generate_explanation(root), repetitions)
    return timing_figure(
        "explanation of a five-level chain", samples, 10, f"{steps} traces in the chain"
    )


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


def deep_cursor(org: Organization, page: int, runs: bool = False) -> str:
    """The cursor a reader holds after paging to `page` (the last row of the
    page before it) of every trace or of runs, found with one query."""
    only_runs = " AND source <> 'dependency'" if runs else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT started_at, id FROM execution_traces WHERE org_id = %s{only_runs}"
            " ORDER BY started_at DESC, id DESC OFFSET %s LIMIT 1",
            [org.pk, (page - 1) * PAGE_SIZE - 1],
        )
        started_at, trace_id = cursor.fetchone()
    return Cursor(started_at, trace_id).encode()


def measure_trace_list(client: Client, org: Organization, repetitions: int, total: int) -> list[Figure]:
    # Page 1,000 when there are that many; the deepest full page of a small run.
    deep = min(1000, max(2, total // PAGE_SIZE - 1))
    base = reverse("web:trace-list")
    urls = {
        "first": f"{base}?view=traces",
        "filtered": f"{base}?status=failed&type=workflow&window=24h",
        "deep": f"{base}?view=traces&cursor={deep_cursor(org, deep)}",
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


def measure_runs_list(client: Client, org: Organization, repetitions: int, total: int) -> list[Figure]:
    """The list as it opens: a page of runs, each with every trace it caused
    (one walk for the page), the status counts, and the poll for new runs."""
    runs = ExecutionTrace.objects.for_org(org).runs().count_up_to(total)
    deep = min(1000, max(2, runs // PAGE_SIZE - 1))
    base = reverse("web:trace-list")
    top = ExecutionTrace.objects.for_org(org).runs().newest_first().first()
    newest = Cursor(top.started_at, top.id).encode()
    urls = {
        "first": base,
        "deep": f"{base}?view=runs&cursor={deep_cursor(org, deep, runs=True)}",
        "poll": f"{base}?since={newest}",
    }
    samples = {
        label: timed(_get(client, url, **({"HTTP_HX_REQUEST": "true"} if label == "poll" else {})), repetitions)
        for label, url in urls.items()
    }
    figures = [
        timing_figure("runs list: first page", samples["first"], 50, "25 runs, their traces, status counts"),
        timing_figure(f"runs list: page {deep:,}", samples["deep"], 50, "trace_runs index"),
        timing_figure("runs list: poll for new runs", samples["poll"], 50, "every 4 s per open list"),
    ]
    ratio = median(samples["deep"]) / median(samples["first"])
    figures.append(ratio_figure(f"runs list: page {deep:,} ÷ first", ratio, "≤ 1.5", ratio <= 1.5))
    return figures


def measure_failures(client: Client, repetitions: int) -> Figure:
    samples = timed(_get(client, reverse("web:failures")), repetitions)
    return timing_figure("failures page, last 24 h", samples, 100, "grouped by cause, bounded")


def measure_trace_detail(client: Client, root: uuid.UUID, repetitions: int) -> list[Figure]:
    """The page, then the lineage SVG its panel loads (as HTMX asks for it)."""
    page = _get(client, reverse("web:trace-detail", args=[root]))
    svg_url = reverse("web:trace-lineage-svg", args=[root]) + f"?depth={DEFAULT_GRAPH_DEPTH}"
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
        timing_figure("trace detail + 50-node lineage SVG", cold_ms, 150, "SVG drawn each time, folded"),
        timing_figure("trace detail + SVG, repeat view", warm_ms, 30, "SVG from the cache"),
    ]


def measure_big_svg(root: uuid.UUID, repetitions: int) -> list[Figure]:
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
