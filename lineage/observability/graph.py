"""Lineage graphs: a `Lineage` as Graphviz DOT, and that DOT as inline SVG.

Causes on the left, effects on the right. Shape says what ran (metric,
alert, workflow, step), fill colour says how it ended, the trace asked about
has a thick dark border, the path from its root cause to it is drawn in the
accent colour, and each node links to its trace's page. For the dashboard,
wide levels of effects fold (graph_folds.py). Observability imports no web module, so links come from a
`url_for(trace_id)` callable the caller passes in.

Every piece of text that reaches the DOT — labels, tooltips, URLs, the graph
label — goes through `_dot_text`. Graphviz's own quoting is not enough: the
`graphviz` package emits a value that looks like `<…>` unquoted, as an
HTML-like label, so a metric named `<script>alert(1)</script>` would be
parsed as markup (or break the graph) instead of being shown as text.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import graphviz
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from lineage.observability.formatting import format_duration, format_timestamp
from lineage.observability.graph_folds import PLURALS, Fold, fold_siblings
from lineage.observability.ids import short_trace_id
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType
from lineage.observability.store import Lineage
from lineage.observability.svg import render_svg

UrlFor = Callable[[uuid.UUID], str]
FoldUrl = Callable[[str], str]

# Levels of causes and effects the trace page's graph panel draws, by
# default and at most.
DEFAULT_GRAPH_DEPTH = 5
MAX_GRAPH_DEPTH = 20

SHAPES = {
    TraceType.METRIC: "ellipse",
    TraceType.ALERT: "diamond",
    TraceType.WORKFLOW: "box",
    TraceType.STEP: "note",
}
# (fill, border) per status; the legend on the trace page uses the same fills.
COLOURS = {
    TraceStatus.SUCCEEDED: ("#d1fae5", "#047857"),
    TraceStatus.FAILED: ("#fee2e2", "#b91c1c"),
    TraceStatus.RUNNING: ("#dbeafe", "#1d4ed8"),
    TraceStatus.PENDING: ("#e5e7eb", "#6b7280"),
    TraceStatus.ABANDONED: ("#e5e7eb", "#6b7280"),
}
GREY = "#9ca3af"
# The trace asked about (the legend's “this trace” swatch) and the path to it.
INK = "#111827"
PATH = "#4338ca"
FONT = "Helvetica,Arial,sans-serif"
# Labels are 12 units high; the page draws 1 unit as 1 px at 100 % and never
# zooms out past 11 px (static/js/lineage.js).
FONT_SIZE = "12"
NAME_LIMIT = 32
TOOLTIP_LIMIT = 300
CACHE_SECONDS = 24 * 60 * 60
# Bump when the drawing changes, so cached SVG of the old style is not reused.
GRAPH_STYLE_VERSION = 3

_BREAKS = re.compile("[\t\n\r\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


def _dot_text(value: object, limit: int | None = None, *, tooltip: bool = False) -> str:
    """Text for a DOT attribute, shown literally whatever it contains.

    Line breaks and tabs become spaces and other control characters are
    dropped (a raw newline or NUL would end the attribute); backslashes are
    doubled so `\\N`, `\\G` and `\\l` lose their meaning — twice over in a
    tooltip, which Graphviz unescapes once more before substituting `\\N`;
    `&` becomes `&amp;` because Graphviz decodes entities in text; double
    quotes are escaped so a name cannot close its attribute. The result is
    marked `nohtml` so the `graphviz` package always quotes it instead of
    emitting `<…>` as an HTML-like label.
    """
    text = _CONTROLS.sub("", _BREAKS.sub(" ", str(value)))
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    backslash = "\\\\\\\\" if tooltip else "\\\\"
    text = text.replace("\\", backslash).replace("&", "&amp;").replace('"', '\\"')
    return graphviz.nohtml(text)


def _lines(*parts: object) -> str:
    """A multi-line label: each part escaped on its own, joined with DOT's
    line-break escape (which `_dot_text` would otherwise neutralise)."""
    return graphviz.nohtml("\\n".join(_dot_text(part, NAME_LIMIT) for part in parts))


def _node_cap(node_cap: int | None) -> int:
    # Read at call time (not as a default argument), so settings overrides apply.
    cap = settings.LINEAGE_GRAPH_NODE_CAP if node_cap is None else node_cap
    return max(1, int(cap))


@dataclass
class _Layout:
    """Which traces are drawn, and the summary node each hidden trace joins."""

    kept: list[ExecutionTrace]
    hidden: dict[uuid.UUID, str]
    summaries: Counter[tuple[int, str]]

    @property
    def total(self) -> int:
        return len(self.kept) + len(self.hidden)


def _summary_name(depth: int, trace_type: str) -> str:
    sign = "up" if depth < 0 else "down"
    return f"more_{sign}{abs(depth)}_{trace_type}"


def _layout(lineage: Lineage, cap: int, folded: Iterable[uuid.UUID] = ()) -> _Layout:
    """Keep the `cap` traces nearest the root (by |depth|, then time) of
    those not folded; fold the rest into one summary node per (depth, trace type)."""
    folded = set(folded)
    ranked = sorted(
        (trace for trace in lineage.nodes.values() if trace.id not in folded),
        key=lambda t: (abs(lineage.depths[t.id]), t.started_at, str(t.id)),
    )
    hidden: dict[uuid.UUID, str] = {}
    summaries: Counter[tuple[int, str]] = Counter()
    for trace in ranked[cap:]:
        key = (lineage.depths[trace.id], trace.trace_type)
        summaries[key] += 1
        hidden[trace.id] = _summary_name(*key)
    return _Layout(kept=ranked[:cap], hidden=hidden, summaries=summaries)


def _node_name(trace_id: uuid.UUID) -> str:
    return f"t{trace_id.hex}"


def _missing_name(trace_id: uuid.UUID) -> str:
    return f"gone{trace_id.hex}"


def _duration(trace: ExecutionTrace) -> str:
    if trace.duration is None:
        return "not finished"
    return f"took {format_duration(trace.duration)}"


def _clock(trace: ExecutionTrace) -> str:
    # The start time tells sibling nodes apart; a short id cannot, because a
    # time-ordered id's first characters are the same for a minute's traces.
    return timezone.localtime(trace.started_at).strftime("%H:%M:%S")


def _tooltip(trace: ExecutionTrace) -> str:
    started = format_timestamp(trace.started_at)
    text = (
        f"{trace.get_trace_type_display()} “{trace.name}”: {trace.status}, "
        f"started {started}, {_duration(trace)}; id {trace.id}"
    )
    if trace.status == TraceStatus.FAILED and trace.error_summary:
        text += f". Error: {trace.error_summary}"
    return _dot_text(text, TOOLTIP_LIMIT, tooltip=True)


def _add_trace(
    graph: graphviz.Digraph, trace: ExecutionTrace, is_root: bool, url_for, on_path: bool = False
) -> None:
    fill, border = COLOURS.get(trace.status, COLOURS[TraceStatus.PENDING])
    attrs = {
        "label": _lines(trace.trace_type, trace.name, f"{trace.status} · {_clock(trace)}"),
        "shape": SHAPES.get(trace.trace_type, "box"),
        "style": "filled,bold" if is_root else "filled",
        "fillcolor": fill,
        "color": INK if is_root else PATH if on_path else border,
        "penwidth": "3.5" if is_root else "2.2" if on_path else "1.2",
        "tooltip": _tooltip(trace),
        "id": _dot_text(f"lineage-{trace.id}"),
    }
    if url_for is not None:
        attrs.update(URL=_dot_text(url_for(trace.id)), target="_top")
    graph.node(_node_name(trace.id), **attrs)


def _add_missing(graph: graphviz.Digraph, trace_id: uuid.UUID) -> None:
    short = short_trace_id(trace_id)
    graph.node(
        _missing_name(trace_id),
        label=_dot_text(f"deleted trace {short}"),
        tooltip=_dot_text(
            f"Trace {trace_id} is named as a cause but no longer exists.", tooltip=True
        ),
        shape="box",
        style="dashed",
        color=GREY,
        fontcolor="#6b7280",
    )


def _add_summary(graph: graphviz.Digraph, depth: int, trace_type: str, count: int) -> None:
    noun = PLURALS.get(trace_type, "traces") if count != 1 else trace_type
    where = "above" if depth < 0 else "below"
    graph.node(
        _summary_name(depth, trace_type),
        label=_dot_text(f"+{count} more {noun}"),
        tooltip=_dot_text(
            f"{count} {noun} {abs(depth)} levels {where} are not drawn.", tooltip=True
        ),
        shape=SHAPES.get(trace_type, "box"),
        style="dashed,filled",
        fillcolor="#f9fafb",
        color=GREY,
        fontcolor="#4b5563",
    )


def _add_fold(graph: graphviz.Digraph, fold: Fold, fold_url: FoldUrl | None) -> None:
    fill, border = COLOURS.get(fold.status, COLOURS[TraceStatus.PENDING])
    names = ", ".join(member.name for member in fold.members[:12])
    more = f" and {len(fold.members) - 12} more" if len(fold.members) > 12 else ""
    attrs = {
        "label": _dot_text(fold.label),
        "tooltip": _dot_text(f"{fold.label[:-2]}: {names}{more}. Click to show each.", TOOLTIP_LIMIT, tooltip=True),
        "shape": SHAPES.get(fold.trace_type, "box"),
        "style": "filled,dashed",
        "fillcolor": fill,
        "color": border,
        "penwidth": "1.6",
        "class": "fold",
        "id": _dot_text(f"fold-{fold.key}"),
    }
    if fold_url is not None:
        attrs.update(URL=_dot_text(fold_url(fold.key)), target="_top")
    graph.node(fold.name, **attrs)


def _path_edges(lineage: Lineage) -> set[tuple[str, str]]:
    """Edges among the trace's causes and into it: the path from its root cause."""
    on_path = {t for t, depth in lineage.depths.items() if depth <= 0}
    return {
        (_node_name(parent), _node_name(child))
        for parent, child in lineage.edges
        if parent in on_path and child in on_path
    }


def _edges(lineage: Lineage, layout: _Layout, drawn_missing: set[uuid.UUID]) -> list[tuple]:
    kept = {trace.id for trace in layout.kept}

    def endpoint(trace_id: uuid.UUID) -> str | None:
        if trace_id in kept:
            return _node_name(trace_id)
        if trace_id in drawn_missing:
            return _missing_name(trace_id)
        return layout.hidden.get(trace_id)

    edges = set()
    for parent, child in lineage.edges:
        tail, head = endpoint(parent), endpoint(child)
        if tail and head and tail != head:
            edges.add((tail, head))
    return sorted(edges)


def _missing_to_draw(lineage: Lineage, kept: Iterable[ExecutionTrace]) -> set[uuid.UUID]:
    """Deleted parents of drawn traces (those of hidden traces fold away)."""
    kept_ids = {trace.id for trace in kept}
    return {
        parent for parent, child in lineage.edges if parent in lineage.missing and child in kept_ids
    }


@dataclass(frozen=True)
class Folding:
    """Fold siblings of the same kind and outcome into one node, except the
    folds whose keys are in `unfold`; a fold links to `url(key)`."""

    unfold: tuple[str, ...] = ()
    url: FoldUrl | None = None

    def key(self) -> tuple:
        return (self.unfold, self.url("") if self.url else None)


def lineage_to_dot(
    lineage: Lineage,
    *,
    url_for: UrlFor | None = None,
    node_cap: int | None = None,
    folding: Folding | None = None,
) -> str:
    """The lineage as DOT source: causes left, effects right.

    `node_cap` (default `LINEAGE_GRAPH_NODE_CAP`) bounds the traces drawn;
    beyond it the graph collapses the farthest ones and says so in its label.
    With `folding`, wide levels of effects fold (graph_folds.py).
    """
    folded, folds = (
        fold_siblings(lineage, folding.unfold, _node_name) if folding else ({}, [])
    )
    layout = _layout(lineage, _node_cap(node_cap), folded)
    layout.hidden.update(folded)
    graph = graphviz.Digraph("lineage")
    graph.attr(
        rankdir="LR", bgcolor="transparent", fontname=FONT, fontsize=FONT_SIZE,
        ranksep="0.35", nodesep="0.12",
    )
    graph.attr("node", fontname=FONT, fontsize=FONT_SIZE, margin="0.14,0.05", height="0.3")
    graph.attr("edge", color="#6b7280", arrowsize="0.6")
    if len(layout.kept) + len(folded) < layout.total:
        graph.attr(
            label=_dot_text(f"showing {len(layout.kept)} of {layout.total} traces"),
            labelloc="t",
        )
    path = {t for t, depth in lineage.depths.items() if depth < 0}
    for trace in sorted(layout.kept, key=lambda t: (lineage.depths[t.id], t.started_at)):
        _add_trace(graph, trace, trace.id == lineage.root_id, url_for, trace.id in path)
    drawn_missing = _missing_to_draw(lineage, layout.kept)
    for trace_id in sorted(drawn_missing):
        _add_missing(graph, trace_id)
    for (depth, trace_type), count in sorted(layout.summaries.items()):
        _add_summary(graph, depth, trace_type, count)
    for each in folds:
        _add_fold(graph, each, folding.url if folding else None)
    path_edges = _path_edges(lineage)
    for tail, head in _edges(lineage, layout, drawn_missing):
        if (tail, head) in path_edges:
            graph.edge(tail, head, color=PATH, penwidth="2.4")
        else:
            graph.edge(tail, head)
    add_datasets(graph, layout.kept)
    return graph.source


def add_datasets(graph: graphviz.Digraph, traces: Iterable[ExecutionTrace]) -> None:
    """The tables the drawn metric runs read (`inputs["reads"]`, recorded at
    run time), each one node above the runs that read it, so a chain of
    causes can end at “the orders table”."""
    readers: dict[str, list[ExecutionTrace]] = {}
    for trace in traces:
        reads = (trace.inputs or {}).get("reads") if trace.trace_type == TraceType.METRIC else None
        for table in reads if isinstance(reads, list) else []:
            readers.setdefault(str(table), []).append(trace)
    for table, runs in sorted(readers.items()):
        node = "table" + hashlib.sha256(table.encode()).hexdigest()[:16]
        graph.node(
            node,
            label=_lines("table", table),
            tooltip=_dot_text(f"Table {table}, read by metric “{runs[0].name}”", tooltip=True),
            shape="cylinder",
            style="filled",
            fillcolor="#fef3c7",
            color="#b45309",
        )
        for run in runs:
            graph.edge(node, _node_name(run.id))


# --- Cache ----------------------------------------------------------------


def lineage_fingerprint(
    lineage: Lineage,
    url_for: UrlFor | None = None,
    node_cap: int | None = None,
    drawing: tuple = (),
) -> str:
    """Changes whenever the drawing would: a node's status, end, name or
    depth, an edge, a deleted parent, the cap, how links are built, or
    `drawing` (what is folded)."""
    nodes = sorted(
        (
            str(t.id),
            t.trace_type,
            t.status,
            t.completed_at.isoformat() if t.completed_at else "",
            t.name,
            lineage.depths[t.id],
            (t.outputs or {}).get("fired") if t.trace_type == TraceType.ALERT else None,
        )
        for t in lineage.nodes.values()
    )
    parts = (
        GRAPH_STYLE_VERSION,
        str(lineage.root_id),
        nodes,
        sorted((str(p), str(c)) for p, c in lineage.edges),
        sorted(str(m) for m in lineage.missing),
        _node_cap(node_cap),
        url_for(lineage.root_id) if url_for is not None else None,
        drawing,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def lineage_svg(
    lineage: Lineage,
    url_for: UrlFor | None = None,
    *,
    node_cap: int | None = None,
    folding: Folding | None = None,
) -> str:
    """The lineage drawn as inline SVG, from the cache when it has not changed.

    A repeat view of a finished lineage skips Graphviz entirely; a running
    trace that finishes changes the fingerprint, so it is drawn again.
    """
    drawing = folding.key() if folding else ()
    key = f"lineage-svg:{lineage_fingerprint(lineage, url_for, node_cap, drawing)}"
    svg = cache.get(key)
    if svg is None:
        dot = lineage_to_dot(lineage, url_for=url_for, node_cap=node_cap, folding=folding)
        svg = _for_the_page(render_svg(dot))
        cache.set(key, svg, CACHE_SECONDS)
    return svg


_POINT_SIZE = re.compile(r'^(<svg[^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')


def _for_the_page(svg: str) -> str:
    """Graphviz's SVG sized in px: 1 unit = 1 px at 100 %, so a label is 12 px."""
    return _POINT_SIZE.sub(r'\1 width="\2" height="\3"', svg, count=1)
