from __future__ import annotations

import threading

import pytest
from django.db import transaction

from lineage.metrics.models import MetricValue
from lineage.observability.models import ExecutionTrace
from lineage.observability.tracer import current_trace, trace_scope, with_trace
from tests.factories import make_metric, traced_db

pytestmark = traced_db


def test_trace_records_success_and_outputs(org):
    with with_trace("metric", name="Daily revenue", subject="metric:1", org=org) as trace:
        trace.outputs["value"] = 42
    row = ExecutionTrace.objects.get(pk=trace.id)
    assert (row.status, row.outputs, row.source, row.subject) == (
        "succeeded",
        {"value": 42},
        "manual",
        "metric:1",
    )
    assert row.completed_at >= row.started_at


def test_exception_is_recorded_and_reraised(org):
    with pytest.raises(ZeroDivisionError):
        with with_trace("metric", name="Broken", org=org) as trace:
            1 / 0  # noqa: B018
    row = ExecutionTrace.objects.get(pk=trace.id)
    assert row.status == "failed"
    assert row.error_summary == "ZeroDivisionError: division by zero"
    assert "Traceback (most recent call last)" in row.error
    assert "1 / 0" in row.error


def test_nested_trace_becomes_a_child_with_source_dependency(org):
    with trace_scope(org=org, source="schedule"):
        with with_trace("workflow", name="outer") as outer:
            with with_trace("step", name="inner") as inner:
                assert current_trace() is inner
            assert current_trace() is outer
    outer_row, inner_row = (ExecutionTrace.objects.get(pk=t.id) for t in (outer, inner))
    assert outer_row.source == "schedule" and outer_row.dependencies == []
    assert inner_row.source == "dependency" and inner_row.dependencies == [outer.id]
    assert inner_row.org_id == org.pk


def test_explicit_parents_override_the_current_trace(org):
    with with_trace("metric", name="other", org=org) as other:
        pass
    with with_trace("workflow", name="outer", org=org):
        with with_trace("step", name="inner", parents=[other.id]) as inner:
            pass
    assert ExecutionTrace.objects.get(pk=inner.id).dependencies == [other.id]


def test_decorator_writes_one_trace_per_call(org):
    @with_trace("metric", name="decorated", org=org)
    def compute(x):
        return current_trace().id, x * 2

    (first, four), (second, six) = compute(2), compute(3)
    assert (four, six) == (4, 6)
    assert first != second
    assert ExecutionTrace.objects.filter(name="decorated", status="succeeded").count() == 2


def test_interrupt_leaves_the_trace_abandoned(org):
    with pytest.raises(KeyboardInterrupt):
        with with_trace("metric", name="interrupted", org=org) as trace:
            raise KeyboardInterrupt
    assert ExecutionTrace.objects.get(pk=trace.id).status == "abandoned"


def test_a_trace_needs_an_organization(db):
    with pytest.raises(ValueError, match="needs an organization"):
        with with_trace("metric", name="orphan"):
            pass


def test_failed_trace_survives_the_rollback_of_its_transaction(org):
    metric = make_metric(org)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            with with_trace("metric", name="rolled back", org=org) as trace:
                MetricValue.objects.create(metric=metric, value=1)
                raise RuntimeError("the work failed")

    assert not MetricValue.objects.exists()  # the work was rolled back …
    row = ExecutionTrace.objects.get(pk=trace.id)  # … its trace was not
    assert (row.status, row.error_summary) == ("failed", "RuntimeError: the work failed")


def test_running_trace_is_visible_to_other_connections(org):
    seen = {}

    def look_from_another_connection(trace_id):
        from django.db import connections

        seen["status"] = ExecutionTrace.objects.get(pk=trace_id).status
        connections.close_all()

    with transaction.atomic():  # the traced body's own transaction stays open
        with with_trace("metric", name="slow", org=org) as trace:
            other = threading.Thread(target=look_from_another_connection, args=[trace.id])
            other.start()
            other.join()
    assert seen["status"] == "running"
