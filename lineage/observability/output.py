"""Traces as terminal text and as JSON, for the management commands, and the
commands' base class that keeps names and errors from driving the terminal."""
from __future__ import annotations

import getpass
import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from django.core.management.base import BaseCommand, OutputWrapper
from django.utils import timezone

from lineage.observability.formatting import terminal_safe
from lineage.observability.models import ExecutionTrace
from lineage.observability.redaction import redact
from lineage.observability.store import MAX_LINEAGE_DEPTH, get_trace_lineage
from lineage.observability.tracer import TraceScope, trace_scope


class SafeOutputWrapper(OutputWrapper):
    """Writes with secrets masked and control characters escaped (an ESC
    sequence in a metric name prints as \u001b, not as a colour change)."""

    def write(self, msg: str = "", style_func=None, ending=None) -> None:
        super().write(terminal_safe(redact(msg), keep_newlines=True), style_func, ending)


class TerminalCommand(BaseCommand):
    """A management command whose output and errors (CommandError included)
    go through SafeOutputWrapper."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stdout = SafeOutputWrapper(self.stdout._out)
        self.stderr = SafeOutputWrapper(self.stderr._out)

    def execute(self, *args: Any, **options: Any) -> Any:
        # Streams handed in (call_command) are wrapped here, not by Django's
        # plain OutputWrapper.
        if stdout := options.pop("stdout", None):
            self.stdout = SafeOutputWrapper(stdout)
        if stderr := options.pop("stderr", None):
            self.stderr = SafeOutputWrapper(stderr)
        return super().execute(*args, **options)


def trace_as_dict(trace: ExecutionTrace, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(trace.id),
        "trace_type": trace.trace_type,
        "name": trace.name,
        "status": trace.status,
        "dependencies": [str(d) for d in trace.dependencies],
    }
    if detail:
        data["source"] = trace.source
        data["started_at"] = trace.started_at.isoformat()
        data["completed_at"] = trace.completed_at.isoformat() if trace.completed_at else None
        data["error"] = trace.error_summary
    return data


def trace_table(traces: Iterable[ExecutionTrace]) -> str:
    lines = []
    for trace in traces:
        started = timezone.localtime(trace.started_at).strftime("%Y-%m-%d %H:%M:%S")
        line = (
            f"{trace.id}  {started}  {trace.trace_type:<8}  {trace.status:<9}  "
            f"{trace.source:<10}  {trace.name}"
        )
        if trace.error:
            line += f"\n{'':38}error: {trace.error_summary}"
        lines.append(line)
    return "\n".join(lines)


def print_chain(stdout, trace_id, *, as_json: bool) -> None:
    """Every trace a run created: its first trace and all its descendants."""
    lineage = get_trace_lineage(trace_id, direction="down", depth=MAX_LINEAGE_DEPTH)
    traces = sorted(lineage.nodes.values(), key=lambda t: (t.started_at, str(t.id)))
    if as_json:
        stdout.write(json.dumps([trace_as_dict(t) for t in traces], indent=2))
    else:
        stdout.write(trace_table(traces))


def terminal_scope(organization) -> AbstractContextManager[TraceScope]:
    """Runs started from a terminal are manual, started by the OS user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return trace_scope(org=organization, source="manual", started_by=f"{user} (terminal)")
