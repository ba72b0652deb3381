"""Listeners: code told about each trace the tracer writes, as it starts and
as it ends, without the tracer knowing who listens (exporters register
themselves when their app starts).

A listener gets a `TraceRecord`, an immutable copy of the row just written.
It runs on the traced code's thread, so it must be quick (hand the record to
a queue); whatever it raises is logged and never reaches the run.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from lineage.observability.models import ExecutionTrace, TraceStatus
from lineage.observability.redaction import redact, redact_value

logger = logging.getLogger("lineage.observability")


@dataclass(frozen=True)
class TraceRecord:
    """A trace as written: `status` is `running` when it starts, its final
    status (with `completed_at`) when it ends."""

    id: uuid.UUID
    org_id: int
    trace_type: str
    name: str
    subject: str
    source: str
    inputs: Mapping[str, Any]
    dependencies: tuple[uuid.UUID, ...]
    started_at: datetime
    status: str = TraceStatus.RUNNING
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""
    completed_at: datetime | None = None

    def __post_init__(self) -> None:
        # Copies, read-only: a listener cannot change what the run goes on with.
        # Masked as the stored row is: exporters send no secret elsewhere.
        object.__setattr__(self, "name", redact(self.name))
        object.__setattr__(self, "inputs", MappingProxyType(redact_value(dict(self.inputs))))
        object.__setattr__(self, "outputs", MappingProxyType(redact_value(dict(self.outputs))))
        object.__setattr__(self, "error", redact(self.error))
        object.__setattr__(self, "dependencies", tuple(self.dependencies))

    @property
    def is_finished(self) -> bool:
        return self.completed_at is not None

    @classmethod
    def of(cls, trace: ExecutionTrace) -> TraceRecord:
        """The record of a stored trace (back-filling reads them from the table)."""
        return cls(
            id=trace.id,
            org_id=trace.org_id,
            trace_type=trace.trace_type,
            name=trace.name,
            subject=trace.subject,
            source=trace.source,
            inputs=trace.inputs or {},
            dependencies=tuple(trace.dependencies),
            started_at=trace.started_at,
            status=trace.status,
            outputs=trace.outputs or {},
            error=trace.error,
            completed_at=trace.completed_at,
        )


TraceListener = Callable[[TraceRecord], None]
_listeners: list[TraceListener] = []


def add_trace_listener(listener: TraceListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def remove_trace_listener(listener: TraceListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def trace_written(record: TraceRecord) -> None:
    """Tell every listener; a listener that fails is logged, never raised."""
    for listener in list(_listeners):
        try:
            listener(record)
        except Exception:
            logger.exception("trace listener %r failed on trace %s", listener, record.id)
