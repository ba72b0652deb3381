"""Traces as terminal text and as JSON, for the management commands."""
from __future__ import annotations

import getpass
import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from django.utils import timezone

from lineage.observability.models import ExecutionTrace
from lineage.observability.store import MAX_LINEAGE_DEPTH, get_trace_lineage
from lineage.observability.tracer import TraceScope, trace_scope


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
