from __future__ import annotations

from lineage.execution.scheduler import run_metric_execution
from lineage.observability.explain import generate_explanation
from lineage.observability.models import ExecutionTrace
from tests.factories import make_chain, traced_db

pytestmark = traced_db


def test_full_flow_writes_three_linked_traces(org):
    metric, alert, workflow = make_chain(org, steps=[])
    run = run_metric_execution(metric, source="schedule")

    traces = {t.trace_type: t for t in ExecutionTrace.objects.filter(org=org)}
    assert set(traces) == {"metric", "alert", "workflow"}
    assert traces["alert"].dependencies == [run.trace_id]
    assert traces["workflow"].dependencies == [traces["alert"].id]
    text = generate_explanation(traces["workflow"].id).text
    assert "alert “Revenue spike” fired (value 12,840 > threshold 10,000, by 2,840)" in text
