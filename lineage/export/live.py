"""Exporting traces as runs finish: the listener the tracer calls.

Nothing here may slow or fail a run. On the run's thread the listener only
places the trace in its chain (memory, or one query for a parent this
process never saw) and queues the rest for the export thread, which every
couple of seconds makes the spans (handing them to the OpenTelemetry SDK's
BatchSpanProcessor, whose own thread encodes and sends them) and sends the
OpenLineage events. A collector or Marquez that is down costs those threads
time, never the run; what they could not send, `manage.py export_traces`
sends again (the same ids, so the same spans and runs).
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from functools import partial

from django.conf import settings
from openlineage.client import OpenLineageClient
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from lineage.export.chains import Chains, OrganizationNames
from lineage.export.openlineage import is_run, job_namespace, openlineage_client, run_event
from lineage.export.otel import SpanMaker, otlp_exporter
from lineage.observability.listeners import (
    TraceRecord,
    add_trace_listener,
    remove_trace_listener,
)

logger = logging.getLogger("lineage.export")

# Export work waits this long for the batch it is done in, and spans, once
# made, this long for the one they are sent in.
SEND_DELAY_SECONDS = 2.0
SPAN_BATCH_DELAY_MS = 500
QUEUED_WORK = 20_000


class ExportQueue:
    """Export work done on a thread of its own, a batch at a time: the thread
    gathers what comes in for `delay` seconds, then makes and sends it, so a
    run pays for a queue append and never waits for a collector, Marquez or
    a disk. Started on first use (a process that forks, like a web server's
    workers, starts its own)."""

    def __init__(self, delay: float = SEND_DELAY_SECONDS, capacity: int = QUEUED_WORK) -> None:
        self.delay = delay
        self.dropped = 0
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(capacity)
        self._now = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def put(self, work: Callable[[], None]) -> None:
        self._start()
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("traces are finishing faster than they can be exported; "
                               "dropping some (export_traces sends them again)")

    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._work, name="lineage-export", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            self._now.wait(self.delay)  # gather a batch, unless asked to flush
            self._now.clear()
            self._do(first)
            while True:
                try:
                    self._do(self._queue.get_nowait())
                except queue.Empty:
                    break

    def _do(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # an unreachable Marquez, a full disk
            logger.warning("trace export failed: %s", exc)
        finally:
            self._queue.task_done()

    def flush(self, timeout: float) -> bool:
        """Do the queued work now; wait up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        self._now.set()
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True


class LiveExport:
    """The trace listener: spans for finished traces, OpenLineage events for
    runs starting and ending. Either side may be off. On the run's thread it
    only places the trace in its chain; the rest waits in the queue."""

    def __init__(
        self,
        span_exporter: SpanExporter | None = None,
        openlineage: OpenLineageClient | None = None,
    ) -> None:
        self.chains = Chains()
        self.organizations = OrganizationNames()
        self.queue = ExportQueue()
        self.span_processor = (
            BatchSpanProcessor(span_exporter, schedule_delay_millis=SPAN_BATCH_DELAY_MS)
            if span_exporter is not None
            else None
        )
        self.spans = SpanMaker(self.span_processor) if self.span_processor else None
        self.openlineage = openlineage

    def __call__(self, record: TraceRecord) -> None:
        link = self.chains.learn(record)
        org_slug = self.organizations.slug(record.org_id)
        if self.openlineage is not None and is_run(record):
            parent, root = self.chains.cause_of(record, link)
            event = partial(run_event, record, job_namespace(org_slug), parent, root)
            self.queue.put(lambda: self.openlineage.emit(event()))
        if self.spans is not None and record.is_finished:
            parents = self.chains.parents_of(record)
            self.queue.put(partial(self.spans.make, record, link, parents, org_slug))

    def flush(self, timeout: float = 10.0) -> bool:
        """Send what is queued now (tests, the end of a command)."""
        sent = self.queue.flush(timeout)
        if self.span_processor is not None:
            sent = self.span_processor.force_flush(int(timeout * 1000)) and sent
        return sent

    def close(self) -> None:
        """Send what is queued, within the exporters' timeouts, and stop."""
        remove_trace_listener(self)
        self.queue.flush(settings.LINEAGE_OPENLINEAGE_TIMEOUT_SECONDS)
        if self.spans is not None:
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
    openlineage = (
        openlineage_client(openlineage_url, openlineage_file)
        if openlineage_url or openlineage_file
        else None
    )
    export = LiveExport(span_exporter, openlineage)
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
