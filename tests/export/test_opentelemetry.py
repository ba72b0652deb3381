"""Traces as OpenTelemetry spans, received by a real OTLP/HTTP collector on
127.0.0.1 that decodes the protobuf: a chain is one trace, a trace's first
parent is its span's parent and the others are links, and a collector that
is down never holds up a run."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from django.test import override_settings
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from lineage.execution.runs import run_metric_execution
from lineage.export.live import live_export
from lineage.observability.models import ExecutionTrace
from lineage.observability.tracer import with_trace
from tests.export.conftest import SilentServer, free_port
from tests.factories import make_chain, traced_db

pytestmark = traced_db


def attributes(span) -> dict:
    values = {}
    for item in span.attributes:
        value = item.value
        kind = value.WhichOneof("value")
        values[item.key] = (
            [v.string_value for v in value.array_value.values] if kind == "array_value" else getattr(value, kind)
        )
    return values


def span_id(trace: ExecutionTrace) -> bytes:
    return trace.id.bytes[8:]


def test_each_demo_chain_is_one_trace_of_spans_with_its_parents(demo_chains, receiver):
    revenue, alert, notify = (demo_chains[n] for n in ("Daily revenue", "Revenue spike", "Notify on-call"))
    orders, piling, page_ops = (demo_chains[n] for n in ("Open orders", "Orders piling up", "Page ops"))
    failed_step = demo_chains["Page the ops channel"]

    assert len(receiver.spans) == ExecutionTrace.objects.count() == 9
    for root, members in ((revenue, 5), (orders, 4)):
        chain = [s for s in receiver.spans if s.trace_id == root.id.bytes]
        assert len(chain) == members  # each chain is one trace, named by its metric run
    parents = {s.name: s.parent_span_id for s in receiver.spans}
    assert parents["metric Daily revenue"] == b""
    assert parents["alert Revenue spike"] == span_id(revenue)
    assert parents["workflow Notify on-call"] == span_id(alert)
    assert parents["step Log the spike"] == parents["step E-mail on-call"] == span_id(notify)
    assert parents["workflow Page ops"] == span_id(piling)
    assert receiver.span("alert Orders piling up").span_id == span_id(piling)

    metric = receiver.span("metric Daily revenue")
    shown = attributes(metric)
    assert shown["lineage.trace.id"] == str(revenue.id)
    assert shown["lineage.trace.type"] == "metric" and shown["lineage.trace.source"] == "schedule"
    assert shown["lineage.subject"] == revenue.subject and shown["lineage.organization"] == "acme"
    assert shown["lineage.reads"] == [f"lineage_org_{revenue.org_id}.demo_orders"]  # acme's schema
    assert json.loads(shown["lineage.outputs"]) == {"value": 12840.0}
    assert json.loads(shown["lineage.inputs"])["sql"].startswith("SELECT sum(amount)")
    since_epoch = revenue.started_at - datetime(1970, 1, 1, tzinfo=UTC)
    assert metric.start_time_unix_nano == since_epoch // timedelta(microseconds=1) * 1000
    assert metric.end_time_unix_nano > metric.start_time_unix_nano
    assert metric.status.code == Status.STATUS_CODE_OK

    step = receiver.span("step Page the ops channel")
    assert step.status.code == Status.STATUS_CODE_ERROR
    assert step.status.message == failed_step.error_summary
    (event,) = step.events
    event_attributes = attributes(event)
    assert event.name == "exception" and event_attributes["exception.type"] == "StepError"
    assert "Traceback" in event_attributes["exception.stacktrace"]
    assert receiver.span("workflow Page ops").status.code == Status.STATUS_CODE_ERROR
    assert page_ops.status == "failed"


def test_a_trace_with_two_parents_links_the_second(exporting, receiver, org):
    with with_trace("metric", name="Orders", org=org) as first:
        pass
    with with_trace("metric", name="Refunds", org=org) as second:
        pass
    with with_trace("alert", name="Both", org=org, parents=[first.id, second.id]) as both:
        pass
    exporting.flush(10)

    span = receiver.span("alert Both")
    assert (span.trace_id, span.parent_span_id) == (first.id.bytes, first.id.bytes[8:])
    (link,) = span.links
    assert (link.trace_id, link.span_id) == (second.id.bytes, second.id.bytes[8:])
    assert span.span_id == both.id.bytes[8:]


def _run_with_collector_at(url: str, org) -> float:
    """Seconds a chain takes while exporting to `url` (OTLP timeout 20 s)."""
    metric, _, _ = make_chain(org)
    with override_settings(LINEAGE_OTLP_TIMEOUT_SECONDS=EXPORT_TIMEOUT):
        export = live_export(otlp_endpoint=url)
    try:
        started = time.perf_counter()
        run = run_metric_execution(metric, source="schedule")
        elapsed = time.perf_counter() - started
        export.span_processor.force_flush(0)  # the batch goes now: into the void
    finally:
        export.close()
    assert run.succeeded and ExecutionTrace.objects.filter(status="succeeded").count() == 4
    return elapsed


# Far from noise either way: a chain takes about a tenth of a second (a few
# on a machine busy with other work), while waiting for the collector would
# take the exporter's whole timeout.
EXPORT_TIMEOUT = 20


def test_a_collector_that_refuses_connections_does_not_hold_up_a_run(org):
    assert _run_with_collector_at(f"http://127.0.0.1:{free_port()}", org) < EXPORT_TIMEOUT / 2


def test_a_collector_that_never_answers_does_not_hold_up_a_run(org):
    silent = SilentServer()
    try:
        assert _run_with_collector_at(silent.url, org) < EXPORT_TIMEOUT / 2
    finally:
        silent.close()
