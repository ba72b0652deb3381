"""`with_trace`: record one run of an engine as an execution trace.

The trace being run is kept in a ContextVar, so a trace opened inside
another becomes its child without ids being passed around. A command or a
request opens the outer `trace_scope` (organization and source) for the
traces that have no parent.
"""
from __future__ import annotations

import copy
import traceback
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from lineage.observability.listeners import TraceRecord, trace_written
from lineage.observability.models import TraceSource, TraceStatus
from lineage.observability.store import create_trace, update_trace


@dataclass
class TraceScope:
    org_id: int | None = None
    source: str = TraceSource.MANUAL
    started_by: str = ""


@dataclass
class TraceHandle:
    """What a traced body sees: the trace's id, and outputs it may fill in."""

    id: uuid.UUID
    org_id: int
    trace_type: str
    name: str
    outputs: dict[str, Any] = field(default_factory=dict)


_current_trace: ContextVar[TraceHandle | None] = ContextVar("current_trace", default=None)
_NO_SCOPE = TraceScope()
_current_scope: ContextVar[TraceScope] = ContextVar("trace_scope", default=_NO_SCOPE)  # noqa: B039 (never mutated)


def current_trace() -> TraceHandle | None:
    return _current_trace.get()


def current_scope() -> TraceScope:
    return _current_scope.get()


@contextmanager
def trace_scope(
    *, org: Any = None, source: str = TraceSource.MANUAL, started_by: str = ""
) -> Iterator[TraceScope]:
    """The outer context of a command or request: whose traces, started how."""
    scope = TraceScope(org_id=_org_id(org), source=source, started_by=started_by)
    token = _current_scope.set(scope)
    try:
        yield scope
    finally:
        _current_scope.reset(token)


def _org_id(org: Any) -> int | None:
    return getattr(org, "pk", org)


class with_trace(ContextDecorator):
    """Write a trace as `running` on entry and `succeeded` or `failed` on exit.

    Exceptions are recorded (type, message, traceback) and re-raised. An
    interrupt (KeyboardInterrupt, SystemExit) leaves the trace `abandoned`.
    """

    def __init__(
        self,
        trace_type: str,
        *,
        name: str,
        subject: str = "",
        inputs: dict[str, Any] | None = None,
        source: str | None = None,
        parents: Iterable[uuid.UUID] | None = None,
        org: Any = None,
    ) -> None:
        self.trace_type = trace_type
        self.name = name
        self.subject = subject
        self.inputs = inputs or {}
        self.source = source
        self.parents = None if parents is None else list(parents)
        self.org = org
        self.handle: TraceHandle | None = None
        self._token: Token | None = None

    def _recreate_cm(self) -> with_trace:
        # As a decorator, each call needs its own trace and its own token.
        return copy.copy(self)

    def __enter__(self) -> TraceHandle:
        parent = _current_trace.get()
        scope = _current_scope.get()
        parents = self.parents if self.parents is not None else ([parent.id] if parent else [])
        org_id = _org_id(self.org) or (parent.org_id if parent else None) or scope.org_id
        if org_id is None:
            raise ValueError(
                f"with_trace({self.trace_type!r}) needs an organization: pass org= "
                "or open it inside trace_scope(org=...)."
            )
        source = self.source or (TraceSource.DEPENDENCY if parents else scope.source)
        inputs = dict(self.inputs)
        if scope.started_by and source != TraceSource.DEPENDENCY:
            # Started by a person (a run, or a re-run linked to a failure).
            inputs.setdefault("started_by", scope.started_by)
        started_at = timezone.now()
        trace_id = create_trace(
            org_id=org_id,
            trace_type=self.trace_type,
            name=self.name,
            subject=self.subject,
            source=source,
            inputs=inputs,
            dependencies=parents,
            started_at=started_at,
        )
        self.handle = TraceHandle(trace_id, org_id, self.trace_type, self.name)
        self._record = TraceRecord(
            trace_id, org_id, self.trace_type, self.name, self.subject, source, inputs,
            tuple(parents), started_at,
        )
        trace_written(self._record)
        self._token = _current_trace.set(self.handle)
        return self.handle

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self.handle is not None and self._token is not None
        _current_trace.reset(self._token)
        changes: dict[str, Any] = {
            "outputs": self.handle.outputs,
            "completed_at": timezone.now(),
            "status": TraceStatus.SUCCEEDED,
        }
        if exc is not None:
            changes["error"] = format_error(exc)
            interrupted = not isinstance(exc, Exception)
            changes["status"] = TraceStatus.ABANDONED if interrupted else TraceStatus.FAILED
        update_trace(self.handle.id, **changes)
        trace_written(replace(self._record, **changes))
        return False


def format_error(exc: BaseException) -> str:
    """`Type: message`, a blank line, then the traceback."""
    summary = f"{type(exc).__name__}: {exc}".rstrip(": ")
    trace = "".join(traceback.format_exception(exc))
    return f"{summary}\n\n{trace}"
