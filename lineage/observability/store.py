"""Reading and writing execution traces.

Every write masks secrets (redaction.redact) in names, inputs, outputs and
errors. Writes go through the `traces` connection, which is in autocommit and never
inside the caller's transaction: a trace must survive the rollback of the
work it describes, and a `running` trace must be visible to other sessions.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections
from django.utils import timezone

from lineage.observability import jsonsafe
from lineage.observability.ids import TraceNotFound, parse_trace_id, uuid7
from lineage.observability.models import TRACE_DB, ExecutionTrace, TraceStatus
from lineage.observability.redaction import redact

# How far lineage walks go: by default (the commands, the assistant) and at
# most (an explanation walks the whole ancestry up to this bound).
DEFAULT_LINEAGE_DEPTH = 20
MAX_LINEAGE_DEPTH = 100

_JSON_FIELDS = {"inputs", "outputs"}
_TEXT_FIELDS = {"status", "error", "name", "subject", "source"}
_UPDATABLE = _JSON_FIELDS | _TEXT_FIELDS | {"completed_at", "started_at", "dependencies"}


def create_trace(
    *,
    org_id: int,
    trace_type: str,
    name: str,
    source: str,
    subject: str = "",
    inputs: dict[str, Any] | None = None,
    dependencies: Iterable[uuid.UUID] = (),
    status: str = TraceStatus.RUNNING,
    started_at: datetime | None = None,
) -> uuid.UUID:
    trace_id = uuid7()
    with connections[TRACE_DB].cursor() as cursor:
        cursor.execute(
            "INSERT INTO execution_traces (id, org_id, trace_type, source, name, subject,"
            " inputs, outputs, dependencies, status, error, started_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, '{}'::jsonb, %s::uuid[], %s, '', %s)",
            [
                trace_id,
                org_id,
                trace_type,
                source,
                _text(name),
                subject,
                _json(inputs),
                list(dependencies),
                status,
                started_at or timezone.now(),
            ],
        )
    return trace_id


def update_trace(trace_id: uuid.UUID, **changes: Any) -> None:
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise TypeError(f"update_trace() cannot change {', '.join(sorted(unknown))}")
    assignments, params = [], []
    for column, value in changes.items():
        if column in _JSON_FIELDS:
            assignments.append(f"{column} = %s::jsonb")
            value = _json(value)
        elif column == "dependencies":
            assignments.append(f"{column} = %s::uuid[]")
            value = list(value)
        else:
            assignments.append(f"{column} = %s")
            if isinstance(value, str):
                value = _text(value)
        params.append(value)
    if not assignments:
        return
    with connections[TRACE_DB].cursor() as cursor:
        cursor.execute(
            f"UPDATE execution_traces SET {', '.join(assignments)} WHERE id = %s",
            [*params, trace_id],
        )


def add_outputs(trace_id: uuid.UUID, outputs: dict[str, Any]) -> None:
    """Add keys to a trace's outputs (jsonb ||), e.g. a consequence learned
    after its run ended."""
    with connections[TRACE_DB].cursor() as cursor:
        cursor.execute(
            "UPDATE execution_traces SET outputs = outputs || %s::jsonb WHERE id = %s",
            [_json(outputs), trace_id],
        )


def _text(value: str) -> str:
    """Text for a trace column: no NUL, secrets masked."""
    return redact(jsonsafe.clean_text(value))


def _json(value: Any) -> str:
    """JSON text for a jsonb column: valid, capped, secrets masked."""
    return redact(jsonsafe.dumps(value))


def get_trace(trace_id: object) -> ExecutionTrace:
    try:
        return ExecutionTrace.objects.select_related("org").get(pk=parse_trace_id(trace_id))
    except ExecutionTrace.DoesNotExist:
        raise TraceNotFound(f"No trace with id {trace_id}.") from None


@dataclass
class Lineage:
    """A trace with its ancestors and/or descendants.

    `depths` is negative for ancestors, positive for descendants, 0 for the
    root. `edges` are (parent id, child id). `missing` are ids that some trace
    names as a dependency but that no longer exist.
    """

    root_id: uuid.UUID
    nodes: dict[uuid.UUID, ExecutionTrace] = field(default_factory=dict)
    depths: dict[uuid.UUID, int] = field(default_factory=dict)
    edges: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    missing: set[uuid.UUID] = field(default_factory=set)

    @property
    def root(self) -> ExecutionTrace:
        return self.nodes[self.root_id]

    def parents_of(self, trace_id: uuid.UUID) -> list[uuid.UUID]:
        return list(dict.fromkeys(self.nodes[trace_id].dependencies))

    def ordered_nodes(self) -> list[ExecutionTrace]:
        """Oldest ancestors first, then the root, then descendants by depth."""
        return sorted(
            self.nodes.values(), key=lambda t: (self.depths[t.id], t.started_at, str(t.id))
        )


_COLUMNS = [f.column for f in ExecutionTrace._meta.concrete_fields]
_FIELD_NAMES = [f.attname for f in ExecutionTrace._meta.concrete_fields]
# Fields that decode what the driver returns (jsonb arrives as text).
_CONVERTERS = [
    (index, field.from_db_value)
    for index, field in enumerate(ExecutionTrace._meta.concrete_fields)
    if hasattr(field, "from_db_value")
]
_SELECT = ", ".join(f"t.{column}" for column in _COLUMNS)

# The planner cannot know how many ids a recursive walk finds; guessing many,
# it would hash-join them against a scan of the whole table. Naming them as an
# array makes fetching the rows a primary-key lookup per id, at any table size.
_FOUND_BY_KEY = "t.id = ANY (ARRAY(SELECT id FROM found))"

# A lineage never leaves the root's organization: a trace of another one
# named as a parent reads as missing. Both walks keep a set of (id, depth) rows: UNION discards a row seen before,
# so the work is bounded by nodes × depth (not by the number of paths), and a
# dependency cycle ends at the depth bound.
_ANCESTORS_SQL = f"""
WITH RECURSIVE root AS (
    SELECT org_id FROM execution_traces WHERE id = %(root)s
), walk(id, depth) AS (
    SELECT %(root)s::uuid, 0
  UNION
    SELECT parent.id, walk.depth + 1
    FROM walk
    JOIN execution_traces AS child ON child.id = walk.id
    CROSS JOIN LATERAL unnest(child.dependencies) AS parent(id)
    WHERE walk.depth < %(depth)s
), found AS (
    SELECT id, min(depth) AS depth FROM walk GROUP BY id
)
SELECT found.id, found.depth, {_SELECT}
FROM found LEFT JOIN execution_traces AS t
  ON t.id = found.id AND t.org_id = (SELECT org_id FROM root)
  AND {_FOUND_BY_KEY}
"""

# Children are found with `dependencies @> ARRAY[id]`, which the GIN index on
# dependencies serves (a nested loop of bitmap index scans).
_DESCENDANTS_SQL = f"""
WITH RECURSIVE root AS (
    SELECT org_id FROM execution_traces WHERE id = %(root)s
), walk(id, depth) AS (
    SELECT %(root)s::uuid, 0
  UNION
    SELECT child.id, walk.depth + 1
    FROM walk
    JOIN execution_traces AS child ON child.dependencies @> ARRAY[walk.id]
    WHERE walk.depth < %(depth)s AND child.org_id = (SELECT org_id FROM root)
), found AS (
    SELECT id, min(depth) AS depth FROM walk GROUP BY id
)
SELECT found.id, found.depth, {_SELECT}
FROM found JOIN execution_traces AS t ON t.id = found.id AND {_FOUND_BY_KEY}
"""


def get_trace_lineage(
    trace_id: object, direction: str = "both", depth: int = DEFAULT_LINEAGE_DEPTH
) -> Lineage:
    """The trace and its ancestors ("up"), descendants ("down") or both.

    One recursive query per direction, whatever the size of the lineage.
    Raises TraceNotFound when the trace does not exist.
    """
    if direction not in {"up", "down", "both"}:
        raise ValueError(f"direction must be up, down or both, not {direction!r}")
    root_id = parse_trace_id(trace_id)
    depth = max(1, min(int(depth), MAX_LINEAGE_DEPTH))
    lineage = Lineage(root_id=root_id)
    if direction in {"up", "both"}:
        _load(lineage, _ANCESTORS_SQL, root_id, depth, sign=-1)
    if direction in {"down", "both"}:
        _load(lineage, _DESCENDANTS_SQL, root_id, depth, sign=1)
    if root_id not in lineage.nodes:
        raise TraceNotFound(f"No trace with id {root_id}.")
    _link(lineage, include_missing=direction in {"up", "both"})
    return lineage


def _load(lineage: Lineage, sql: str, root_id: uuid.UUID, depth: int, sign: int) -> None:
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute(sql, {"root": root_id, "depth": depth})
        rows = cursor.fetchall()
    for node_id, node_depth, *values in rows:
        if values[0] is None:
            lineage.missing.add(node_id)
            continue
        for index, convert in _CONVERTERS:
            values[index] = convert(values[index], None, connection)
        trace = ExecutionTrace.from_db("default", _FIELD_NAMES, values)
        lineage.nodes[node_id] = trace
        if node_id != lineage.root_id or node_id not in lineage.depths:
            lineage.depths[node_id] = sign * node_depth


def _link(lineage: Lineage, include_missing: bool) -> None:
    for trace in lineage.nodes.values():
        for parent_id in trace.dependencies:
            if parent_id in lineage.nodes or (include_missing and parent_id in lineage.missing):
                lineage.edges.add((parent_id, trace.id))


def lineage_plan_problems(root: uuid.UUID, depth: int = DEFAULT_LINEAGE_DEPTH) -> list[str]:
    """What is wrong with the lineage queries' plans for this root: a
    sequential scan of execution_traces, or children not found through the
    GIN index on dependencies. Empty when both plans are right. The
    benchmark and the tests check the plans of real lineages with this."""
    problems = []
    for label, sql in (("ancestors", _ANCESTORS_SQL), ("descendants", _DESCENDANTS_SQL)):
        with connections["default"].cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, {"root": root, "depth": depth})
            document = cursor.fetchone()[0]
        if isinstance(document, str):
            document = json.loads(document)
        nodes = list(_plan_nodes(document[0]["Plan"]))
        if any(
            n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "execution_traces"
            for n in nodes
        ):
            problems.append(f"{label}: sequential scan of execution_traces")
        if label == "descendants" and not any(
            n.get("Index Name") == "trace_dependencies" for n in nodes
        ):
            problems.append("descendants: children not found with the GIN index trace_dependencies")
    return problems


def _plan_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)
