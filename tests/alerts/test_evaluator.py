from __future__ import annotations

import pytest

from lineage.alerts.evaluator import evaluate_alerts
from lineage.alerts.models import compare, margin
from lineage.observability.models import ExecutionTrace
from lineage.observability.tracer import with_trace
from tests.factories import make_alert, make_metric, make_workflow, traced_db

pytestmark = traced_db


def test_every_enabled_rule_writes_a_trace_fired_or_not(org):
    metric = make_metric(org)
    workflow = make_workflow(org)
    make_alert(metric, name="High", operator=">", threshold=100, workflows=[workflow])
    make_alert(metric, name="Low", operator="<", threshold=100, workflows=[workflow])
    disabled = make_alert(metric, name="Off", threshold=0)
    disabled.enabled = False
    disabled.save()

    with with_trace("metric", name=metric.name, org=org) as metric_trace:
        pass
    outcomes = evaluate_alerts(metric, 150.0, parents=[metric_trace.id])

    assert [(o.rule.name, o.fired) for o in outcomes] == [("High", True), ("Low", False)]
    high, low = (ExecutionTrace.objects.get(name=n) for n in ("High", "Low"))
    assert high.inputs == {
        "metric": "Daily revenue",
        "value": 150.0,
        "operator": ">",
        "threshold": 100.0,
        "severity": "warning",
        # The rule as it was, so answers can tell what changed since.
        "enabled": True,
        "workflows": ["Notify on-call"],
    }
    assert (high.outputs["fired"], high.outputs["margin"]) == (True, 50.0)
    assert (low.outputs["fired"], low.outputs["margin"]) == (False, -50.0)
    assert high.dependencies == low.dependencies == [metric_trace.id]
    workflow_trace = ExecutionTrace.objects.get(trace_type="workflow")
    assert workflow_trace.dependencies == [high.id]
    assert workflow_trace.inputs["context"]["alert"] == "High"


def test_disabled_workflows_are_not_started(org):
    metric = make_metric(org)
    workflow = make_workflow(org)
    workflow.enabled = False
    workflow.save()
    make_alert(metric, threshold=0, workflows=[workflow])

    evaluate_alerts(metric, 5.0, parents=[])

    assert not ExecutionTrace.objects.filter(trace_type="workflow").exists()


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "fired", "expected_margin"),
    [
        (12, ">", 10, True, 2),
        (10, ">", 10, False, 0),
        (10, ">=", 10, True, 0),
        (4, "<", 5, True, 1),
        (6, "<=", 5, False, -1),
        (5, "==", 5, True, 0),
        (7, "==", 5, False, -2),
        (7, "!=", 5, True, 2),
    ],
)
def test_operators_and_margins(value, operator, threshold, fired, expected_margin):
    assert compare(value, operator, threshold) is fired
    assert margin(value, operator, threshold) == expected_margin
