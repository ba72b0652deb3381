"""Traces as OpenTelemetry spans, made with the OpenTelemetry SDK and sent
with its OTLP/HTTP (protobuf) exporter.

Ids are Lineage's, so sending a trace twice sends the same span: the span id
is the low 64 bits of the trace's UUID (it ends with the short id the pages
show), and a chain's OpenTelemetry trace id is the UUID of its top trace —
paste it into Jaeger or Tempo to find the chain. A trace's first parent is
its span's parent; its other parents (fan-in) are span links.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from lineage.export.chains import ChainLink
from lineage.observability import jsonsafe
from lineage.observability.listeners import TraceRecord
from lineage.observability.models import TraceStatus

SCOPE = "lineage"
_LOW_64_BITS = (1 << 64) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The ids of the span being made: the SDK asks its id generator for them.
_next_ids: ContextVar[tuple[int, int]] = ContextVar("next_span_ids")


def span_id_of(trace_id: uuid.UUID) -> int:
    return (trace_id.int & _LOW_64_BITS) or 1  # zero is not a valid span id


def otel_trace_id_of(root_id: uuid.UUID) -> int:
    return root_id.int or 1


def span_context(link: ChainLink) -> SpanContext:
    """Where a trace's span is, for its children to point at."""
    return SpanContext(
        otel_trace_id_of(link.root_id),
        span_id_of(link.trace_id),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


class _LineageIds(IdGenerator):
    """Hands out the ids of the trace being exported, never random ones."""

    def generate_span_id(self) -> int:
        return _next_ids.get()[1]

    def generate_trace_id(self) -> int:
        return _next_ids.get()[0]

    def is_trace_id_random(self) -> bool:
        return False


def otlp_exporter(endpoint: str, headers: dict[str, str], timeout: float) -> OTLPSpanExporter:
    """The SDK's OTLP/HTTP exporter; a collector's base URL gets /v1/traces."""
    if endpoint.rstrip("/").count("/") <= 2:  # scheme://host[:port] only
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    return OTLPSpanExporter(endpoint=endpoint, headers=headers, timeout=timeout)


class SpanMaker:
    """Makes one span per finished trace and hands it to `processor` (the
    SDK's BatchSpanProcessor when live, a collecting one for back-fills)."""

    def __init__(self, processor: SpanProcessor) -> None:
        self.provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: "lineage"}),
            id_generator=_LineageIds(),
            shutdown_on_exit=False,
        )
        self.provider.add_span_processor(processor)
        self._tracer = self.provider.get_tracer(SCOPE)

    def make(
        self, record: TraceRecord, link: ChainLink, parents: Sequence[ChainLink], org_slug: str
    ) -> None:
        """The span of a finished trace; `parents` are the links of its
        parents that exist, first parent first."""
        first = parents[0] if parents and parents[0].trace_id == record.dependencies[0] else None
        context = (
            trace_api.set_span_in_context(trace_api.NonRecordingSpan(span_context(first)))
            if first is not None
            else None
        )
        token = _next_ids.set((otel_trace_id_of(link.root_id), span_id_of(record.id)))
        try:
            span = self._tracer.start_span(
                f"{record.trace_type} {record.name}",
                context=context,
                kind=SpanKind.INTERNAL,
                attributes=span_attributes(record, org_slug),
                links=[Link(span_context(p)) for p in parents if p is not first],
                start_time=_nanoseconds(record.started_at),
            )
        finally:
            _next_ids.reset(token)
        if record.status == TraceStatus.SUCCEEDED:
            span.set_status(Status(StatusCode.OK))
        else:
            _record_failure(span, record)
        span.end(end_time=_nanoseconds(record.completed_at or record.started_at))


def span_attributes(record: TraceRecord, org_slug: str) -> dict[str, object]:
    attributes: dict[str, object] = {
        "lineage.trace.id": str(record.id),
        "lineage.trace.type": record.trace_type,
        "lineage.trace.status": record.status,
        "lineage.trace.source": record.source,
        "lineage.name": record.name,
        "lineage.subject": record.subject,
        "lineage.organization": org_slug,
        "lineage.parents": [str(parent) for parent in record.dependencies],
        "lineage.inputs": jsonsafe.dumps(dict(record.inputs)),
        "lineage.outputs": jsonsafe.dumps(dict(record.outputs)),
    }
    reads = record.inputs.get("reads")
    if isinstance(reads, list) and reads:
        attributes["lineage.reads"] = [str(table) for table in reads]
    return attributes


def _record_failure(span: trace_api.Span, record: TraceRecord) -> None:
    """An error status, and the error as OpenTelemetry's exception event."""
    summary, _, stack = record.error.partition("\n\n")
    summary = summary.strip() or record.status
    span.set_status(Status(StatusCode.ERROR, summary))
    kind, _, message = summary.partition(": ")
    span.add_event(
        "exception",
        {
            "exception.type": kind if message else record.status,
            "exception.message": message or summary,
            "exception.stacktrace": stack.strip(),
        },
        timestamp=_nanoseconds(record.completed_at or record.started_at),
    )


def _nanoseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND * 1000
