from __future__ import annotations

import uuid

import pytest

from lineage.observability.models import ExecutionTrace, TraceStatus
from lineage.observability.store import (
    TraceNotFound,
    create_trace,
    get_trace,
    get_trace_lineage,
    update_trace,
)
from tests.factories import traced_db

pytestmark = traced_db


def new_trace(org, name="t", parents=(), trace_type="metric"):
    return create_trace(
        org_id=org.pk, trace_type=trace_type, name=name, source="manual", dependencies=parents
    )


def chain(org, length):
    ids = [new_trace(org, "t0")]
    for i in range(1, length):
        ids.append(new_trace(org, f"t{i}", parents=[ids[-1]]))
    return ids


def test_created_trace_is_running_until_updated(org):
    trace_id = new_trace(org, "Daily revenue")
    assert get_trace(trace_id).status == TraceStatus.RUNNING

    update_trace(trace_id, status=TraceStatus.SUCCEEDED, outputs={"value": 3})

    trace = get_trace(str(trace_id))
    assert (trace.status, trace.outputs) == ("succeeded", {"value": 3})


def test_ids_are_time_ordered(org):
    first, second = new_trace(org), new_trace(org)
    assert str(first) < str(second)


@pytest.mark.parametrize("bad", ["nope", "0192", "", "'; drop table x; --"])
def test_malformed_id_is_not_found(bad):
    with pytest.raises(TraceNotFound, match="not a trace id"):
        get_trace(bad)


def test_unknown_id_is_not_found(org):
    with pytest.raises(TraceNotFound):
        get_trace(uuid.uuid4())


def test_odd_json_is_stored_safely(org):
    trace_id = create_trace(
        org_id=org.pk,
        trace_type="metric",
        name="odd\x00name",
        source="manual",
        inputs={"nan": float("nan"), "inf": float("-inf"), "nul": "a\x00b", "set": {1}},
    )
    update_trace(trace_id, outputs={"huge": "x" * 200_000}, error="boom\x00")

    trace = get_trace(trace_id)
    assert trace.inputs == {"nan": "nan", "inf": "-inf", "nul": "a\ufffdb", "set": [1]}
    assert trace.outputs["_truncated"] is True
    assert trace.outputs["size"] > 200_000
    assert trace.error == "boom\ufffd"


def test_lineage_up_returns_ancestors_and_edges(org):
    a, b, c = chain(org, 3)
    lineage = get_trace_lineage(c, direction="up")
    assert set(lineage.nodes) == {a, b, c}
    assert lineage.edges == {(a, b), (b, c)}
    assert lineage.depths == {c: 0, b: -1, a: -2}


def test_lineage_down_returns_descendants(org):
    a, b, c = chain(org, 3)
    sibling = new_trace(org, "sibling", parents=[a])
    lineage = get_trace_lineage(a, direction="down")
    assert set(lineage.nodes) == {a, b, c, sibling}
    assert (a, sibling) in lineage.edges
    assert lineage.depths[c] == 2


def test_lineage_both_joins_the_two_directions(org):
    a, b, c = chain(org, 3)
    lineage = get_trace_lineage(b, direction="both")
    assert set(lineage.nodes) == {a, b, c}
    assert lineage.depths == {a: -1, b: 0, c: 1}


def test_lineage_stops_at_the_depth_bound(org):
    ids = chain(org, 10)
    lineage = get_trace_lineage(ids[-1], direction="up", depth=3)
    assert set(lineage.nodes) == set(ids[-4:])


def test_lineage_terminates_on_a_dependency_cycle(org):
    a, b = chain(org, 2)
    update_trace(a, dependencies=[b])  # a ← b ← a
    for direction in ("up", "down", "both"):
        lineage = get_trace_lineage(a, direction=direction, depth=100)
        assert set(lineage.nodes) == {a, b}


def test_fan_in_keeps_both_parents(org):
    left, right = new_trace(org, "left"), new_trace(org, "right")
    child = new_trace(org, "child", parents=[left, right])
    lineage = get_trace_lineage(child, direction="up")
    assert lineage.edges == {(left, child), (right, child)}


def test_deleted_parent_is_reported_missing(org):
    parent = new_trace(org, "parent")
    child = new_trace(org, "child", parents=[parent])
    ExecutionTrace.objects.filter(pk=parent).delete()

    lineage = get_trace_lineage(child, direction="up")
    assert lineage.missing == {parent}
    assert set(lineage.nodes) == {child}


@pytest.mark.parametrize("length", [3, 30])
def test_lineage_is_one_query_per_direction(org, length, django_assert_num_queries):
    ids = chain(org, length)
    with django_assert_num_queries(1):
        assert len(get_trace_lineage(ids[-1], direction="up", depth=100).nodes) == length
    with django_assert_num_queries(1):
        assert len(get_trace_lineage(ids[0], direction="down", depth=100).nodes) == length
    with django_assert_num_queries(2):
        get_trace_lineage(ids[length // 2], direction="both", depth=100)


def test_lineage_of_unknown_trace_is_not_found(org):
    with pytest.raises(TraceNotFound):
        get_trace_lineage(uuid.uuid4())


def test_lineage_never_crosses_into_another_organization(org, other_org):
    foreign = new_trace(other_org, "foreign")
    mine = new_trace(org, "mine", parents=[foreign])
    foreign_child = new_trace(other_org, "foreign child", parents=[mine])

    up = get_trace_lineage(mine, direction="up")
    assert set(up.nodes) == {mine} and up.missing == {foreign}
    down = get_trace_lineage(mine, direction="down")
    assert set(down.nodes) == {mine}
    assert foreign_child not in down.nodes
