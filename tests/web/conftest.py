from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lineage.alerts.models import AlertRule
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.workflows.models import Workflow
from tests.factories import make_alert, make_metric, make_workflow


@dataclass
class Chain:
    metric: Metric
    alert: AlertRule
    workflow: Workflow
    traces: dict[str, ExecutionTrace]
    """The run's traces by type (one of each; `step` is the failing one)."""


@pytest.fixture
def failing_chain(org, webhook_receiver) -> Chain:
    """Open orders → Orders piling up → Page ops, whose webhook step gets an
    HTTP 500 from a real server; run once, on its schedule, by the engines."""
    webhook_receiver.status = 500
    metric = make_metric(org, name="Open orders", sql="SELECT 7")
    workflow = make_workflow(
        org,
        name="Page ops",
        steps=[
            ("webhook", "Page the ops channel", {"url": webhook_receiver.url, "timeout": 3}),
            ("log", "Log the page", {"message": "paged"}),
        ],
    )
    alert = make_alert(metric, name="Orders piling up", threshold=5, workflows=[workflow])
    run_metric_execution(metric, source="schedule")
    traces = {t.trace_type: t for t in ExecutionTrace.objects.filter(org=org)}
    return Chain(metric, alert, workflow, traces)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def count_queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(queries)
