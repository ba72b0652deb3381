"""Folding a wide lineage: effects of the same kind and outcome that share
their drawn causes become one node (“12 alerts fired ▸”), so a run of a
hundred traces stays readable; a fold's key unfolds it again.

Only effects fold (causes are few, and they are the path that explains the
trace); the trace asked about never does.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType
from lineage.observability.store import Lineage

# Fewer siblings than this are drawn one by one.
FOLD_AT = 3

PLURALS = {
    TraceType.METRIC: "metrics",
    TraceType.ALERT: "alerts",
    TraceType.WORKFLOW: "workflows",
    TraceType.STEP: "steps",
}


def outcome_of(trace: ExecutionTrace) -> str:
    """How a trace ended, as a fold tells it: an alert that succeeded fired
    or did not; everything else by its status."""
    if trace.trace_type == TraceType.ALERT and trace.status == TraceStatus.SUCCEEDED:
        fired = (trace.outputs or {}).get("fired")
        if fired is not None:
            return "fired" if fired else "did not fire"
    return trace.status


@dataclass
class Fold:
    key: str
    trace_type: str
    outcome: str
    members: list[ExecutionTrace] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"fold_{self.key}"

    @property
    def status(self) -> str:
        """The status its fill colour shows."""
        return self.members[0].status

    @property
    def label(self) -> str:
        noun = PLURALS.get(self.trace_type, "traces")
        return f"{len(self.members)} {noun} {self.outcome} ▸"


def fold_siblings(
    lineage: Lineage, unfold: Collection[str] = (), node_name=None
) -> tuple[dict[uuid.UUID, str], list[Fold]]:
    """Which effects fold into which node: (trace id → fold node name, the
    folds). Level by level away from the trace, siblings are grouped by the
    nodes their causes are drawn as — so the effects of folded alerts are
    siblings too, and fold in turn."""
    drawn_as: dict[uuid.UUID, str] = {}
    hidden: dict[uuid.UUID, str] = {}
    folds: list[Fold] = []
    levels: dict[int, list[ExecutionTrace]] = defaultdict(list)
    for trace in lineage.nodes.values():
        if lineage.depths[trace.id] > 0:
            levels[lineage.depths[trace.id]].append(trace)
        else:
            drawn_as[trace.id] = node_name(trace.id)
    for depth in sorted(levels):
        groups: dict[tuple, list[ExecutionTrace]] = defaultdict(list)
        for trace in sorted(levels[depth], key=lambda t: (t.started_at, str(t.id))):
            causes = tuple(sorted({drawn_as.get(p, str(p)) for p in trace.dependencies}))
            groups[(causes, trace.trace_type, outcome_of(trace))].append(trace)
        for (causes, trace_type, outcome), members in groups.items():
            key = hashlib.sha256(repr((causes, trace_type, outcome)).encode()).hexdigest()[:12]
            if len(members) < FOLD_AT or key in unfold:
                drawn_as.update((m.id, node_name(m.id)) for m in members)
                continue
            fold = Fold(key, trace_type, outcome, members)
            folds.append(fold)
            for member in members:
                drawn_as[member.id] = hidden[member.id] = fold.name
    return hidden, folds


def lineage_summary(lineage: Lineage) -> str:
    """“3 causes, 12 effects, 2 failed”: what the graph shows, in words."""
    causes = sum(1 for depth in lineage.depths.values() if depth < 0)
    effects = sum(1 for depth in lineage.depths.values() if depth > 0)
    failed = sum(1 for trace in lineage.nodes.values() if trace.status == TraceStatus.FAILED)
    parts = [
        f"{causes} cause{'s' if causes != 1 else ''}",
        f"{effects} effect{'s' if effects != 1 else ''}",
        f"{failed} failed",
    ]
    return ", ".join(parts)
