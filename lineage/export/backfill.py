"""Sending finished traces again, oldest first, a batch at a time: what a
collector or Marquez missed while it was down, or history from before the
export was switched on.

Spans and runs keep Lineage's ids, so sending a trace twice sends the same
span and the same run: a back-fill can be repeated, and one that stopped can
go on after the last trace it sent.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from openlineage.client import OpenLineageClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lineage.export.chains import Chains, OrganizationNames
from lineage.export.openlineage import is_run, job_namespace, run_event
from lineage.export.otel import SpanMaker
from lineage.observability.listeners import TraceRecord
from lineage.observability.models import ExecutionTrace, TraceStatus
from lineage.tenancy.models import Organization

BATCH_SIZE = 500


class BackfillStopped(Exception):
    """A destination refused a batch; `after` is the last trace sent whole."""

    def __init__(self, reason: str, sent: int, after: ExecutionTrace | None) -> None:
        super().__init__(reason)
        self.sent = sent
        self.after = after


@dataclass
class Destinations:
    span_exporter: SpanExporter | None = None
    openlineage: OpenLineageClient | None = None


def finished_traces(
    organizations: Sequence[Organization], since: datetime, after: ExecutionTrace | None
) -> Iterator[list[ExecutionTrace]]:
    """Batches of finished traces started since `since`, organization by
    organization (by id), oldest first; after `after` when given."""
    for organization in organizations:
        if after is not None and organization.pk < after.org_id:
            continue
        traces = ExecutionTrace.objects.for_org(organization).finished().started_between(since)
        position = (after.started_at, after.id) if after and after.org_id == organization.pk else None
        while True:
            page = traces.after_position(*position) if position else traces
            batch = list(page.oldest_first()[:BATCH_SIZE])
            if not batch:
                break
            yield batch
            position = (batch[-1].started_at, batch[-1].id)


class Backfill:
    def __init__(self, destinations: Destinations) -> None:
        self.destinations = destinations
        self.chains = Chains()
        self.organizations = OrganizationNames()
        self._collected = InMemorySpanExporter()
        self._spans = SpanMaker(SimpleSpanProcessor(self._collected))
        self.sent = 0

    def run(
        self, batches: Iterator[list[ExecutionTrace]], progress: Callable[[int, ExecutionTrace], None]
    ) -> int:
        """Send every batch; BackfillStopped at the first one refused."""
        last: ExecutionTrace | None = None
        for batch in batches:
            try:
                self._send(batch)
            except Exception as exc:
                raise BackfillStopped(str(exc), self.sent, last) from exc
            self.sent += len(batch)
            last = batch[-1]
            progress(self.sent, last)
        return self.sent

    def _send(self, batch: list[ExecutionTrace]) -> None:
        records = [TraceRecord.of(trace) for trace in batch]
        # Every chain in the batch in one query; traces learnt in order, parents first.
        self.chains.links([record.id for record in records])
        if self.destinations.span_exporter is not None:
            self._send_spans(records)
        if self.destinations.openlineage is not None:
            self._send_events(records)

    def _send_spans(self, records: list[TraceRecord]) -> None:
        for record in records:
            link = self.chains.learn(record)
            parents = self.chains.parents_of(record)
            self._spans.make(record, link, parents, self.organizations.slug(record.org_id))
        spans = self._collected.get_finished_spans()
        self._collected.clear()
        result = self.destinations.span_exporter.export(spans)
        if result is not SpanExportResult.SUCCESS:
            raise RuntimeError("the OpenTelemetry collector did not accept the spans")

    def _send_events(self, records: list[TraceRecord]) -> None:
        for record in filter(is_run, records):
            parent, root = self.chains.cause_of(record, self.chains.learn(record))
            namespace = job_namespace(self.organizations.slug(record.org_id))
            started = replace(
                record, status=TraceStatus.RUNNING, outputs={}, error="", completed_at=None
            )
            for written in (started, record):
                self.destinations.openlineage.emit(run_event(written, namespace, parent, root))
