from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

import graphviz
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from lineage.observability.graph import (
    _dot_text,
    lineage_fingerprint,
    lineage_svg,
    lineage_to_dot,
)
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import create_trace, get_trace_lineage, update_trace
from lineage.observability.svg import _WASM_WORKER, GraphRenderError, _render_with_wasm, render_svg
from tests.factories import traced_db

pytestmark = traced_db

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
EVIL_NAMES = ['"] ; evil [label="', "<script>alert(1)</script>"]


def trace(org, name, trace_type="metric", parents=(), status="succeeded"):
    trace_id = create_trace(
        org_id=org.pk, trace_type=trace_type, name=name, source="manual", dependencies=parents
    )
    if status != "running":
        update_trace(trace_id, status=status, completed_at=timezone.now())
    return trace_id


def chain(org, step_statuses=("succeeded",)):
    """metric → alert → workflow → steps, as the engines write them."""
    metric = trace(org, "Daily revenue")
    alert = trace(org, "Revenue spike", "alert", [metric])
    workflow = trace(org, "Notify on-call", "workflow", [alert], status=step_statuses[-1])
    steps = [
        trace(org, f"Step {n}", "step", [workflow], status=status)
        for n, status in enumerate(step_statuses, 1)
    ]
    return metric, alert, workflow, steps


def node_line(dot: str, trace_id: uuid.UUID) -> str:
    """The DOT statement that declares a trace's node."""
    return next(line for line in dot.splitlines() if line.strip().startswith(f"t{trace_id.hex} ["))


def parse_svg(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def svg_nodes(root: ET.Element) -> dict[str, ET.Element]:
    """Graph nodes by their DOT name (the <title> Graphviz writes)."""
    return {g.find(f"{SVG}title").text: g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}


def node_text(g: ET.Element) -> list[str]:
    return [text.text or "" for text in g.iter(f"{SVG}text")]


def url_for(trace_id: uuid.UUID) -> str:
    return f"/traces/{trace_id}/"


def test_node_shape_follows_type_and_fill_follows_status(org):
    metric, alert, workflow, (step,) = chain(org, step_statuses=("failed",))
    running = trace(org, "Still going", "step", [workflow], status="running")
    dot = lineage_to_dot(get_trace_lineage(workflow))

    assert "shape=ellipse" in node_line(dot, metric)
    assert "shape=diamond" in node_line(dot, alert)
    assert "shape=box" in node_line(dot, workflow)
    assert "shape=note" in node_line(dot, step)
    assert 'fillcolor="#d1fae5"' in node_line(dot, metric)  # succeeded: green
    assert 'fillcolor="#fee2e2"' in node_line(dot, step)  # failed: red
    assert 'fillcolor="#dbeafe"' in node_line(dot, running)  # running: blue
    assert 'label="step\\nStep 1\\nfailed · ' in node_line(dot, step)


def test_the_trace_asked_about_is_highlighted(org):
    metric, alert, workflow, _ = chain(org)
    dot = lineage_to_dot(get_trace_lineage(alert))

    assert "penwidth=3.5" in node_line(dot, alert)
    assert 'style="filled,bold"' in node_line(dot, alert)
    assert 'color="#111827"' in node_line(dot, alert)  # the legend's “this trace”
    assert "penwidth=2.2" in node_line(dot, metric)  # on the path from the root cause
    assert 'color="#4338ca"' in node_line(dot, metric)
    assert "penwidth=1.2" in node_line(dot, workflow)
    assert f't{metric.hex} -> t{alert.hex} [color="#4338ca" penwidth=2.4]' in dot
    assert "rankdir=LR" in dot


def test_each_node_links_to_its_trace_page_in_the_svg(org):
    metric, alert, workflow, (step,) = chain(org)
    svg = parse_svg(render_svg(lineage_to_dot(get_trace_lineage(alert), url_for=url_for)))

    links = {a.get(f"{XLINK}href"): a.get("target") for a in svg.iter(f"{SVG}a")}
    assert links == {url_for(t): "_top" for t in (metric, alert, workflow, step)}


def test_without_url_for_nodes_have_no_links(org):
    _, alert, _, _ = chain(org)
    dot = lineage_to_dot(get_trace_lineage(alert))
    assert "URL=" not in dot
    assert "target=" not in dot


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_hostile_names_are_literal_text_in_dot_and_svg(org, name):
    parent = trace(org, name)
    child = trace(org, "Revenue spike", "alert", [parent])
    lineage = get_trace_lineage(child)
    dot = lineage_to_dot(lineage, url_for=url_for)
    svg = render_svg(dot)

    # DOT: the name stays inside its quoted label; it adds no node or attribute.
    assert f'label="metric\\n{name.replace(chr(34), chr(92) + chr(34))}\\n' in dot
    assert len(re.findall(r"^\tt[0-9a-f]{32} \[", dot, re.MULTILINE)) == 2
    # SVG: the name is the node's text, escaped; no element came from it.
    root = parse_svg(svg)
    nodes = svg_nodes(root)
    assert set(nodes) == {f"t{parent.hex}", f"t{child.hex}"}
    assert node_text(nodes[f"t{parent.hex}"])[1] == name
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert "<script>" not in svg
    assert name.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in svg


@pytest.mark.parametrize(
    "text, shown",
    [
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("<<b>bold</b>>", "<<b>bold</b>>"),
        ('"] ; evil [label="', '"] ; evil [label="'),
        ("ends with a backslash \\", "ends with a backslash \\"),
        ("\\N \\G \\l \\\\", "\\N \\G \\l \\\\"),
        ("&amp; &lt;i&gt; & &#60;", "&amp; &lt;i&gt; & &#60;"),
        ("tab\tnul\x00 line\u2028break\r\n", "tab nul line break"),
    ],
)
def test_the_escaping_function_shows_any_text_literally(text, shown):
    graph = graphviz.Digraph()
    graph.node("n", label=_dot_text(text), tooltip=_dot_text(text, tooltip=True), URL="/x")
    (node,) = svg_nodes(parse_svg(render_svg(graph.source))).values()
    assert node_text(node) == [shown]
    assert node.find(f".//{SVG}a").get(f"{XLINK}title") == shown


def test_tooltips_and_odd_characters_stay_literal(org):
    name = 'R&D \\N &lt;b&gt; "x"\nsecond line\x07'
    parent = trace(org, name, status="failed")
    update_trace(parent, error="ValueError: <img src=x onerror=alert(1)>")
    root = parse_svg(render_svg(lineage_to_dot(get_trace_lineage(parent), url_for=url_for)))

    (node,) = svg_nodes(root).values()
    assert node_text(node)[1] == 'R&D \\N &lt;b&gt; "x" second line'
    title = node.find(f".//{SVG}a").get(f"{XLINK}title")
    assert title.startswith('Metric “R&D \\N &lt;b&gt; "x" second line”: failed, started ')
    assert title.endswith("Error: ValueError: <img src=x onerror=alert(1)>")
    assert not [el for el in root.iter() if el.tag.endswith("img")]


def test_over_the_node_cap_the_farthest_traces_collapse_and_the_graph_says_so(org):
    metric, alert, workflow, steps = chain(org, step_statuses=("succeeded",) * 9)
    lineage = get_trace_lineage(metric, direction="down")
    assert len(lineage.nodes) == 12

    dot = lineage_to_dot(lineage, node_cap=5)
    root = parse_svg(render_svg(dot))

    nodes = svg_nodes(root)
    assert len(nodes) == 6  # 5 traces and one summary
    drawn = {f"t{t.hex}" for t in (metric, alert, workflow, *steps[:2])}
    assert drawn < set(nodes)
    (summary,) = set(nodes) - drawn
    assert node_text(nodes[summary]) == ["+7 more steps"]
    graph_label = [t.text for t in root.find(f"{SVG}g").findall(f"{SVG}text")]
    assert graph_label == ["showing 5 of 12 traces"]
    # The hidden steps' edges are merged into one from their workflow.
    assert f"t{workflow.hex} -> {summary}" in dot


def test_under_the_node_cap_nothing_collapses(org):
    metric, *_ = chain(org, step_statuses=("succeeded",) * 3)
    dot = lineage_to_dot(get_trace_lineage(metric, direction="down"), node_cap=6)
    assert "more steps" not in dot
    assert "showing" not in dot


def test_deleted_parent_is_drawn_dashed_and_grey(org):
    parent = trace(org, "Daily revenue")
    child = trace(org, "Revenue spike", "alert", [parent])
    ExecutionTrace.objects.filter(pk=parent).delete()

    dot = lineage_to_dot(get_trace_lineage(child, direction="up"))
    line = next(x for x in dot.splitlines() if x.strip().startswith(f"gone{parent.hex} ["))
    assert "style=dashed" in line
    assert 'color="#9ca3af"' in line
    assert f"gone{parent.hex} -> t{child.hex}" in dot
    root = parse_svg(render_svg(dot))
    assert node_text(svg_nodes(root)[f"gone{parent.hex}"]) == [f"deleted trace {str(parent)[-8:]}"]


def test_svg_is_rendered_by_wasm_graphviz_ready_to_inline(org):
    _, alert, _, _ = chain(org)
    dot = lineage_to_dot(get_trace_lineage(alert))

    raw = _render_with_wasm(dot, timeout=10).decode()
    svg = render_svg(dot)

    assert raw.startswith("<?xml") and "<!DOCTYPE svg" in raw
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<?xml" not in svg and "DOCTYPE" not in svg
    assert len(svg_nodes(parse_svg(svg))) == 4


def test_invalid_dot_is_a_clear_render_error():
    with pytest.raises(GraphRenderError, match="Graphviz failed: Failed to parse DOT"):
        render_svg("digraph { a -> ")


def test_a_render_over_the_time_limit_is_a_render_error():
    big = "digraph {" + " ".join(f"n{i} -> n{i + 1}; n{i} -> n{(i * 7) % 300};" for i in range(300))
    with pytest.raises(GraphRenderError, match="took longer than 0.0001 s"):
        render_svg(big + "}", timeout=0.0001)
    # The render goes on in the worker: let it end, so the next test's graph
    # does not queue behind it.
    _WASM_WORKER.submit(lambda: None).result(timeout=120)


def test_repeat_view_of_an_unchanged_lineage_comes_from_the_cache(org):
    metric, alert, workflow, _ = chain(org)
    running = trace(org, "Still going", "step", [workflow], status="running")
    lineage = get_trace_lineage(alert)
    first = lineage_svg(lineage, url_for)

    # With rendering made impossible, an unchanged lineage is still drawn.
    with override_settings(LINEAGE_GRAPH_TIMEOUT_SECONDS=0):
        assert lineage_svg(get_trace_lineage(alert), url_for) == first

    # A running trace that finishes changes the fingerprint: drawn again.
    update_trace(running, status="failed", completed_at=timezone.now())
    changed = get_trace_lineage(alert)
    assert lineage_fingerprint(changed, url_for) != lineage_fingerprint(lineage, url_for)
    with override_settings(LINEAGE_GRAPH_TIMEOUT_SECONDS=0), pytest.raises(GraphRenderError):
        lineage_svg(changed, url_for)
    redrawn = svg_nodes(parse_svg(lineage_svg(changed, url_for)))[f"t{running.hex}"]
    assert redrawn.find(f".//{SVG}polygon").get("fill") == "#fee2e2"


def test_cache_key_depends_on_the_node_cap_and_links(org):
    _, alert, _, _ = chain(org)
    lineage = get_trace_lineage(alert)
    fingerprints = {
        lineage_fingerprint(lineage),
        lineage_fingerprint(lineage, url_for),
        lineage_fingerprint(lineage, url_for, node_cap=2),
    }
    assert len(fingerprints) == 3
    cache.clear()
    assert "xlink:href" not in lineage_svg(lineage)
    assert "xlink:href" in lineage_svg(lineage, url_for)


def test_lineage_command_prints_dot_without_links(org, capsys):
    _, alert, workflow, _ = chain(org)
    call_command("lineage", str(workflow), "--format", "dot")
    out = capsys.readouterr().out
    assert out.startswith("digraph lineage {")
    assert node_line(out, workflow).count("penwidth=3.5") == 1
    assert f"t{alert.hex} -> t{workflow.hex}" in out
    assert "URL=" not in out


def test_siblings_of_one_kind_and_outcome_fold_into_a_node_that_unfolds(org):
    from lineage.observability.graph import Folding

    metric, alert, workflow, steps = chain(org, step_statuses=("succeeded",) * 4)
    evil = trace(org, EVIL_NAMES[0], "step", [workflow])
    trace(org, "Broke", "step", [workflow], status="failed")
    lineage = get_trace_lineage(alert)

    dot = lineage_to_dot(lineage, url_for=url_for, folding=Folding(url=lambda key: f"/unfold/{key}"))

    fold_line = next(line for line in dot.splitlines() if "5 steps succeeded ▸" in line)
    assert 'class=fold' in fold_line and 'URL="/unfold/' in fold_line
    assert '\\"] ; evil [label=\\"' in fold_line  # the hostile name, literal, in its tooltip
    assert f"t{evil.hex} [" not in dot
    assert "Broke" in dot  # alone of its outcome: drawn as itself
    for kept in (metric, alert, workflow):
        assert f"t{kept.hex} [" in dot  # causes and the trace asked about never fold
    key = re.search(r'URL="/unfold/([0-9a-f]{12})"', fold_line).group(1)
    unfolded = lineage_to_dot(lineage, url_for=url_for, folding=Folding(unfold=(key,)))
    assert "▸" not in unfolded and f"t{evil.hex} [" in unfolded
    parse_svg(render_svg(dot))  # valid SVG with the fold in it
