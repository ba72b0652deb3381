"""A trace's lineage graph: SVG for the trace page's lineage panel, DOT to download."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.vary import vary_on_headers

from lineage.observability.graph import (
    DEFAULT_GRAPH_DEPTH,
    MAX_GRAPH_DEPTH,
    Folding,
    lineage_svg,
    lineage_to_dot,
)
from lineage.observability.graph_folds import lineage_summary
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import Lineage, get_trace_lineage
from lineage.observability.svg import GraphRenderError
from lineage.web.access import get_trace_or_404
from lineage.web.rendering import trace_url

logger = logging.getLogger("lineage.web")

DIRECTIONS = ("both", "up", "down")
DEFAULT_DIRECTION = "both"
# A standalone SVG opened from our origin must not run anything it contains.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class GraphParams:
    direction: str = DEFAULT_DIRECTION
    depth: int = DEFAULT_GRAPH_DEPTH
    unfold: tuple[str, ...] = ()
    fold: bool = True

    def query(self, unfold: tuple[str, ...]) -> str:
        return urlencode(
            {"direction": self.direction, "depth": self.depth, "unfold": ",".join(unfold)}
        )


_FOLD_KEY = re.compile(r"^[0-9a-f]{12}$")


def graph_params(query: Mapping[str, str]) -> GraphParams:
    """`direction` (up/down/both), `depth` (1–20) and `unfold` (fold keys)
    from a query string; a value that is missing or bad falls back to its
    default."""
    direction = query.get("direction", DEFAULT_DIRECTION)
    if direction not in DIRECTIONS:
        direction = DEFAULT_DIRECTION
    try:
        depth = int(query.get("depth", DEFAULT_GRAPH_DEPTH))
    except (TypeError, ValueError):
        depth = DEFAULT_GRAPH_DEPTH
    if not 1 <= depth <= MAX_GRAPH_DEPTH:
        depth = DEFAULT_GRAPH_DEPTH
    keys = [key for key in query.get("unfold", "").split(",")[:50] if _FOLD_KEY.match(key)]
    return GraphParams(direction, depth, tuple(sorted(set(keys))), query.get("fold") != "0")


def _lineage(trace: ExecutionTrace, params: GraphParams) -> Lineage:
    # The walks never leave the trace's organization (store.py): a foreign
    # trace named as a parent reads as missing, never as a node.
    return get_trace_lineage(trace.id, params.direction, params.depth)


@vary_on_headers("HX-Request")
def trace_lineage_svg(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    """The lineage as bare SVG; for the trace page's panel (HTMX), the SVG
    in its pan-and-zoom viewport with a summary in words. Siblings of the
    same kind and outcome fold; a fold's link unfolds it."""
    trace = get_trace_or_404(request, trace_id)
    params = graph_params(request.GET)
    lineage = _lineage(trace, params)
    base = reverse("web:trace-lineage-svg", args=[trace.id])

    def fold_url(key: str) -> str:
        return f"{base}?{params.query(tuple(sorted({*params.unfold, key})))}"

    try:
        folding = Folding(params.unfold, fold_url) if params.fold else None
        svg = lineage_svg(lineage, trace_url, folding=folding)
    except GraphRenderError as exc:
        logger.warning("lineage graph of %s not drawn: %s", trace.id, exc)
        # HTMX swaps only successful responses: the panel shows the message.
        svg, status = _unavailable_svg(str(exc)), 200 if request.htmx else 503
    else:
        status = 200
    if request.htmx:
        # In the panel the graph is one tab stop (its viewport): its links leave the tab order.
        in_panel = svg.replace("<a ", '<a tabindex="-1" ')
        context = {
            "svg": mark_safe(in_panel),  # Graphviz's output of escaped DOT text (graph.py)
            "summary": lineage_summary(lineage),
            "root_id": trace.id,
            "unfolded": params.unfold,
            "fold_all_url": f"{base}?{params.query(())}",
            "unfold_all_url": f"{base}?{params.query(())}&fold=0",
            "folded": params.fold and "fold_" in svg,
            "fold_off": not params.fold,
        }
        return render(request, "web/_lineage_panel.html", context, status=status)
    response = HttpResponse(svg, status=status)
    response["Content-Type"] = "image/svg+xml; charset=utf-8"
    response["Content-Security-Policy"] = SVG_CSP
    return response


def trace_lineage_dot(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    """The lineage as Graphviz DOT, with absolute links, to render elsewhere."""
    trace = get_trace_or_404(request, trace_id)
    lineage = _lineage(trace, graph_params(request.GET))
    dot = lineage_to_dot(
        lineage, url_for=lambda node_id: request.build_absolute_uri(trace_url(node_id))
    )
    response = HttpResponse(dot, content_type="text/vnd.graphviz; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="lineage-{trace.id}.dot"'
    return response


def _unavailable_svg(reason: str) -> str:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="40" role="img"'
        ' class="lineage-unavailable"><text x="4" y="24" font-family="sans-serif"'
        ' font-size="14" fill="#b91c1c">The lineage graph could not be drawn: {}</text></svg>',
        reason,
    )
