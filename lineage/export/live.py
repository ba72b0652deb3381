"""Exporting traces as runs finish: the listener the tracer calls.

Nothing here may slow or fail a run. On the run's thread the listener only
places the trace in its chain (memory, or one query for a parent this
process never saw) and hands the work to a queue: spans go to the
OpenTelemetry SDK's BatchSpanProcessor, whose thread encodes and sends them;
OpenLineage events to a thread of their own. A collector or Marquez that is
down costs those threads time, never the run; what they could not send,
`manage.py export_traces` sends again (the same ids, so the same spans and
runs).
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from django.conf import settings
from openlineage.client import OpenLineageClient
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from lineage.export.chains import ChainLink, Chains, OrganizationNames
from lineage.export.openlineage import is_run, job_namespace, openlineage_client, run_event
from lineage.export.otel import SpanMaker, otlp_exporter
from lineage.observability.listeners import (
    TraceRecord,
    add_trace_listener,
    remove_trace_listener,
)

logger = logging.getLogger("lineage.export")

# Spans wait at most this long for the batch they are sent in.
SPAN_BATCH_DELAY_MS = 2000
QUEUED_EVENTS = 10_000


class EventSender:
    """Sends OpenLineage events from a thread of its own, so a run never
    waits for Marquez or a disk. Started on first use (so a process that
    forks, like a web server's workers, starts its own)."""

    def __init__(self, client: OpenLineageClient, capacity: int = QUEUED_EVENTS) -> None:
        self.client = client
        self.dropped = 0
        self._queue: queue.Queue[Callable[[], object]] = queue.Queue(capacity)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def send(self, make_event: Callable[[], object]) -> None:
        self._start()
        try:
            self._queue.put_nowait(make_event)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("OpenLineage events are not being sent fast enough; dropping "
                               "new ones (export_traces sends them again)")

    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._work, name="openlineage-events", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            make_event = self._queue.get()
            try:
                self.client.emit(make_event())
            except Exception as exc:  # an unreachable Marquez, a full disk
                logger.warning("OpenLineage event not sent: %s", exc)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the queued events to be sent."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True


class LiveExport:
    """The trace listener: spans for finished traces, OpenLineage events for
    runs starting and ending. Either side may be off."""

    def __init__(
        self, span_exporter: SpanExporter | None = None, events: EventSender | None = None
    ) -> None:
        self.chains = Chains()
        self.organizations = OrganizationNames()
        self.span_processor = (
            BatchSpanProcessor(span_exporter, schedule_delay_millis=SPAN_BATCH_DELAY_MS)
            if span_exporter is not None
            else None
        )
        self.spans = SpanMaker(self.span_processor) if self.span_processor else None
        self.events = events

    def __call__(self, record: TraceRecord) -> None:
        link = self.chains.learn(record)
        if self.events is not None and is_run(record):
            self._queue_event(record, link)
        if self.spans is not None and record.is_finished:
            parents = self.chains.parents_of(record)
            self.spans.make(record, link, parents, self.organizations.slug(record.org_id))

    def _queue_event(self, record: TraceRecord, link: ChainLink) -> None:
        parent, root = self.chains.cause_of(record, link)
        namespace = job_namespace(self.organizations.slug(record.org_id))
        self.events.send(lambda: run_event(record, namespace, parent, root))

    def flush(self, timeout: float = 10.0) -> bool:
        """Send what is queued now (tests, the end of a command)."""
        sent = True
        if self.span_processor is not None:
            sent = self.span_processor.force_flush(int(timeout * 1000))
        if self.events is not None:
            sent = self.events.flush(timeout) and sent
        return sent

    def close(self) -> None:
        """Send what is queued, within the exporters' timeouts, and stop."""
        remove_trace_listener(self)
        if self.events is not None:
            self.events.flush(settings.LINEAGE_OPENLINEAGE_TIMEOUT_SECONDS)
        if self.span_processor is not None:
            self.spans.provider.shutdown()


def live_export(
    otlp_endpoint: str = "",
    otlp_headers: dict[str, str] | None = None,
    openlineage_url: str = "",
    openlineage_file: str = "",
) -> LiveExport:
    """Start exporting to these destinations as traces are written."""
    span_exporter = (
        otlp_exporter(otlp_endpoint, otlp_headers or {}, settings.LINEAGE_OTLP_TIMEOUT_SECONDS)
        if otlp_endpoint
        else None
    )
    events = (
        EventSender(openlineage_client(openlineage_url, openlineage_file))
        if openlineage_url or openlineage_file
        else None
    )
    export = LiveExport(span_exporter, events)
    add_trace_listener(export)
    return export


def start_from_settings() -> LiveExport | None:
    """The live export the settings ask for (none by default); called once
    when the app starts. What is queued at exit is sent then."""
    if not (
        settings.LINEAGE_OTLP_ENDPOINT
        or settings.LINEAGE_OPENLINEAGE_URL
        or settings.LINEAGE_OPENLINEAGE_FILE
    ):
        return None
    export = live_export(
        otlp_endpoint=settings.LINEAGE_OTLP_ENDPOINT,
        otlp_headers=settings.LINEAGE_OTLP_HEADERS,
        openlineage_url=settings.LINEAGE_OPENLINEAGE_URL,
        openlineage_file=settings.LINEAGE_OPENLINEAGE_FILE,
    )
    atexit.register(export.close)
    return export
