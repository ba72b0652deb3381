from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from lineage.execution.runs import run_metric_execution
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import create_trace, update_trace
from tests.factories import make_alert, make_metric, make_workflow, traced_db

pytestmark = traced_db

NODE = re.compile(r'<g id="[^"]*" class="node">')


def svg_url(trace_id) -> str:
    return reverse("web:trace-lineage-svg", args=[trace_id])


def dot_url(trace_id) -> str:
    return reverse("web:trace-lineage-dot", args=[trace_id])


def engine_chain(org, metric_name="Open orders", alert_name="Orders piling up"):
    """A scheduled run through the real engines: metric → alert → workflow → step."""
    metric = make_metric(org, name=metric_name, sql="SELECT 42")
    workflow = make_workflow(org, name="Page ops")
    make_alert(metric, name=alert_name, threshold=10, workflows=[workflow])
    run_metric_execution(metric, source="schedule")
    return {t.trace_type: t for t in ExecutionTrace.objects.filter(org=org)}


def trace_chain(org, length: int) -> list[uuid.UUID]:
    ids = [create_trace(org_id=org.pk, trace_type="metric", name="t0", source="manual")]
    for n in range(1, length):
        ids.append(
            create_trace(
                org_id=org.pk,
                trace_type="step",
                name=f"t{n}",
                source="manual",
                dependencies=[ids[-1]],
            )
        )
    return ids


def fan_out(org, children: int) -> uuid.UUID:
    """A workflow with `children` steps, all finished."""
    root = create_trace(org_id=org.pk, trace_type="workflow", name="Wide", source="manual")
    for n in range(children):
        step = create_trace(
            org_id=org.pk, trace_type="step", name=f"s{n}", source="manual", dependencies=[root]
        )
        update_trace(step, status="succeeded", completed_at=timezone.now())
    return root


def drawn_names(dot: str) -> list[str]:
    return re.findall(r'label="\w+\\n([^\\]*)\\n', dot)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def test_member_gets_the_lineage_as_inline_svg(member_client, org):
    traces = engine_chain(org)
    workflow = traces["workflow"]

    response = member_client.get(svg_url(workflow.id))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    svg = response.content.decode()
    assert svg.startswith("<svg") and "<?xml" not in svg
    assert len(NODE.findall(svg)) == 4
    for trace in traces.values():
        assert f'xlink:href="{reverse("web:trace-detail", args=[trace.id])}"' in svg
    assert "Orders piling up" in svg and "Open orders" in svg
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_htmx_request_gets_the_same_svg_in_a_pan_and_zoom_panel_with_a_summary(member_client, org):
    workflow = engine_chain(org)["workflow"]
    plain = member_client.get(svg_url(workflow.id)).content.decode()
    htmx = member_client.get(svg_url(workflow.id), headers={"HX-Request": "true"})

    assert htmx.status_code == 200
    assert plain.replace("<a ", '<a tabindex="-1" ') in htmx.content.decode()
    assert "HX-Request" in htmx["Vary"]
    panel = htmx.content.decode()
    assert '<p class="graph-summary" id="graph-summary">2 causes, 1 effect, 0 failed</p>' in panel
    assert panel.count('tabindex="0"') == 1  # the graph is one tab stop
    assert 'tabindex="-1"' in panel and 'tabindex="-1"' not in plain  # its links are not


def test_a_viewer_may_see_the_graph_too(client, viewer, org):
    workflow = engine_chain(org)["workflow"]
    client.force_login(viewer)
    assert client.get(svg_url(workflow.id)).status_code == 200


def test_another_organizations_trace_is_not_found(client, outsider, org):
    workflow = engine_chain(org)["workflow"]
    client.force_login(outsider)

    assert client.get(svg_url(workflow.id)).status_code == 404
    assert client.get(dot_url(workflow.id)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, org):
    workflow = engine_chain(org)["workflow"]
    for url in (svg_url(workflow.id), dot_url(workflow.id)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "path",
    [
        "/traces/not-a-uuid/lineage.svg",
        "/traces/0192abcd/lineage.dot",
        "/traces/01a223ad-6dc9-7c34-870c-4bd8a7315af0/lineage.svg",  # no such trace
    ],
)
def test_malformed_or_unknown_ids_are_not_found(member_client, path):
    assert member_client.get(path).status_code == 404


@pytest.mark.parametrize(
    "params, drawn",
    [
        ({}, 6),  # both directions, depth 5
        ({"depth": "2"}, 3),
        ({"direction": "up"}, 1),
        ({"direction": "sideways", "depth": "abc"}, 6),
        ({"depth": "0"}, 6),
        ({"depth": "999"}, 6),
        ({"depth": "-3", "direction": ""}, 6),
    ],
)
def test_direction_and_depth_with_bad_values_falling_back_to_defaults(
    member_client, org, params, drawn
):
    root = trace_chain(org, 9)[0]

    dot = member_client.get(dot_url(root), params)
    svg = member_client.get(svg_url(root), params)

    assert dot.status_code == svg.status_code == 200
    assert drawn_names(dot.content.decode()) == [f"t{n}" for n in range(drawn)]
    assert len(NODE.findall(svg.content.decode())) == drawn


def test_dot_endpoint_serves_graphviz_source_with_absolute_links(member_client, org):
    traces = engine_chain(org)
    alert = traces["alert"]

    response = member_client.get(dot_url(alert.id), {"direction": "down"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vnd.graphviz; charset=utf-8"
    assert f'filename="lineage-{alert.id}.dot"' in response["Content-Disposition"]
    dot = response.content.decode()
    assert dot.startswith("digraph lineage {")
    detail = reverse("web:trace-detail", args=[alert.id])
    assert f'URL="http://testserver{detail}"' in dot
    assert drawn_names(dot) == ["Orders piling up", "Page ops", "Log it"]
    assert "penwidth=3.5" in next(line for line in dot.splitlines() if "Orders piling up" in line)


def test_hostile_names_are_shown_as_text_in_the_svg(member_client, org):
    traces = engine_chain(
        org, metric_name="<script>alert(1)</script>", alert_name='"] ; evil [label="'
    )
    svg = member_client.get(svg_url(traces["workflow"].id)).content.decode()

    assert len(NODE.findall(svg)) == 4
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</text>" in svg
    assert "&quot;] ; evil [label=&quot;</text>" in svg
    assert "<title>evil</title>" not in svg


def test_query_count_does_not_grow_with_the_lineage(member_client, org, django_assert_num_queries):
    small, large = fan_out(org, 2), fan_out(org, 60)
    member_client.get(svg_url(small))  # the session and caches are warm from here on

    with django_assert_num_queries(6):
        small_svg = member_client.get(svg_url(small) + "?fold=0").content.decode()
    with django_assert_num_queries(6):
        large_svg = member_client.get(svg_url(large) + "?fold=0").content.decode()
    with django_assert_num_queries(6):
        member_client.get(dot_url(large))

    assert len(NODE.findall(small_svg)) == 3
    assert len(NODE.findall(large_svg)) == 61


def test_over_the_node_cap_the_graph_collapses_and_says_so(member_client, org):
    root = fan_out(org, 40)
    with override_settings(LINEAGE_GRAPH_NODE_CAP=10):
        svg = member_client.get(svg_url(root) + "?fold=0").content.decode()

    assert len(NODE.findall(svg)) == 11
    assert "+31 more steps" in svg
    assert "showing 10 of 41 traces" in svg


def test_a_graph_that_cannot_be_drawn_says_so_instead_of_failing(member_client, org):
    root = fan_out(org, 3)
    with override_settings(LINEAGE_GRAPH_TIMEOUT_SECONDS=0):
        plain = member_client.get(svg_url(root))
        htmx = member_client.get(svg_url(root), headers={"HX-Request": "true"})

    assert plain.status_code == 503
    assert htmx.status_code == 200  # HTMX swaps it into the panel
    assert plain["Content-Type"] == "image/svg+xml; charset=utf-8"
    for response in (plain, htmx):
        assert "The lineage graph could not be drawn: Graphviz took longer than 0 s" in (
            response.content.decode()
        )
    assert settings.LINEAGE_GRAPH_TIMEOUT_SECONDS > 0


def test_siblings_of_the_same_kind_and_outcome_fold_and_unfold(member_client, org):
    root = fan_out(org, 60)
    folded = member_client.get(svg_url(root)).content.decode()

    assert len(NODE.findall(folded)) == 1  # the workflow; its 60 steps are one fold
    assert "60 steps succeeded ▸" in folded
    key = re.search(r'id="fold&#45;([0-9a-f]{12})"', folded).group(1)
    unfolded = member_client.get(svg_url(root) + f"?unfold={key}").content.decode()
    assert len(NODE.findall(unfolded)) == 61
    assert "▸" not in unfolded
    assert member_client.get(svg_url(root)).status_code == 200


def test_traces_of_another_organization_are_left_out_of_the_graph(member_client, org, other_org):
    root = fan_out(org, 1)
    create_trace(
        org_id=other_org.pk,
        trace_type="metric",
        name="Globex secret",
        source="manual",
        dependencies=[root],
    )

    svg = member_client.get(svg_url(root)).content.decode()
    dot = member_client.get(dot_url(root)).content.decode()

    assert len(NODE.findall(svg)) == 2
    assert "Globex secret" not in svg and "Globex secret" not in dot
