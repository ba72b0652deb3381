from __future__ import annotations

import pytest

from lineage.api.models import ApiToken
from lineage.execution.runs import run_metric_execution
from lineage.observability.models import ExecutionTrace
from tests.factories import make_chain, make_metric


@pytest.fixture
def traces(org, webhook_receiver):
    """A chain whose workflow fails at its webhook step and a metric that
    succeeds: traces of every type, failures to group."""
    webhook_receiver.status = 500
    metric, _, workflow = make_chain(
        org, steps=[("webhook", "Page ops", {"url": webhook_receiver.url})]
    )
    run_metric_execution(metric, source="schedule")
    run_metric_execution(make_metric(org, name="Open orders", sql="SELECT 3"), source="schedule")
    return {t.trace_type + ":" + t.name: t for t in ExecutionTrace.objects.for_org(org)}


@pytest.fixture
def token(org) -> str:
    """An API token of acme (the secret)."""
    return ApiToken.issue(org, "tests")[1]


@pytest.fixture
def outsider_token(other_org) -> str:
    return ApiToken.issue(other_org, "globex")[1]


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
