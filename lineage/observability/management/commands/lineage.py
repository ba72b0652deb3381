from __future__ import annotations

import json

from django.core.management.base import CommandError

from lineage.observability.graph import lineage_to_dot
from lineage.observability.ids import TraceNotFound
from lineage.observability.models import ExecutionTrace
from lineage.observability.output import TerminalCommand, trace_as_dict
from lineage.observability.store import DEFAULT_LINEAGE_DEPTH, MAX_LINEAGE_DEPTH, get_trace_lineage


class Command(TerminalCommand):
    help = "Print a trace's ancestors and/or descendants as text, JSON or Graphviz DOT."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "trace_id", help="The trace's id, or its first or last digits (at least 6)."
        )
        parser.add_argument("--direction", choices=["up", "down", "both"], default="both")
        parser.add_argument(
            "--depth", type=int, default=DEFAULT_LINEAGE_DEPTH, help="How many levels to walk."
        )
        parser.add_argument("--format", choices=["text", "json", "dot"], default="text")

    def handle(self, *args, trace_id: str, direction: str, depth: int, format: str, **options):
        if not 1 <= depth <= MAX_LINEAGE_DEPTH:
            raise CommandError(f"--depth must be between 1 and {MAX_LINEAGE_DEPTH}, not {depth}")
        try:
            trace = ExecutionTrace.objects.find_by_id(trace_id)
            lineage = get_trace_lineage(trace.id, direction=direction, depth=depth)
        except TraceNotFound as exc:
            raise CommandError(str(exc)) from None
        if format == "json":
            self.stdout.write(json.dumps(_as_json(lineage), indent=2))
        elif format == "dot":
            self.stdout.write(lineage_to_dot(lineage))
        else:
            self.stdout.write(_as_text(lineage))


def _as_json(lineage) -> dict:
    return {
        "root": str(lineage.root_id),
        "nodes": [
            {**trace_as_dict(t, detail=True), "depth": lineage.depths[t.id]}
            for t in lineage.ordered_nodes()
        ],
        "edges": [{"parent": str(p), "child": str(c)} for p, c in sorted(lineage.edges, key=str)],
        "missing": sorted(str(m) for m in lineage.missing),
    }


def _as_text(lineage) -> str:
    lines = []
    for trace in lineage.ordered_nodes():
        depth = lineage.depths[trace.id]
        marker = "▶" if trace.id == lineage.root_id else " "
        relation = "ancestor" if depth < 0 else "descendant" if depth > 0 else "this trace"
        lines.append(
            f"{marker} {depth:+3d}  {trace.trace_type:<8} {trace.status:<9} {trace.name}  "
            f"[{relation}, {trace.id}]"
        )
    for missing in sorted(lineage.missing, key=str):
        lines.append(f"  missing trace {missing} (deleted)")
    return "\n".join(lines)
