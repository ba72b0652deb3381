"""The `run_metric` step kind: a workflow step that computes another metric.

Registered here rather than in workflows, because only the execution engine
knows how to run a metric. The metric's traces become children of the step.
"""
from __future__ import annotations

from typing import Any

from lineage.execution.scheduler import run_metric_execution
from lineage.metrics.models import Metric
from lineage.workflows.steps import StepError, register_step, required_config


@register_step("run_metric")
def run_metric_step(step, context: dict[str, Any]) -> dict[str, Any]:
    name = required_config(step.config, "metric")
    organization_id = step.workflow.organization_id
    metric = Metric.objects.filter(organization_id=organization_id, name=name).first()
    if metric is None:
        raise StepError(f"no metric named “{name}” in this organization")
    run = run_metric_execution(metric)
    if not run.succeeded:
        raise StepError(f"metric “{name}” failed: {run.error}")
    return {"metric": name, "value": run.value, "metric_trace": str(run.trace_id)}
