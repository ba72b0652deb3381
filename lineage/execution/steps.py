"""The `run_metric` step kind: a workflow step that computes another metric.

Registered here rather than in workflows, because running a metric means
running what its value sets off (execution.runs). The metric's traces become
children of the step.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.workflows.models import StepKind, Workflow
from lineage.workflows.steps import StepError, register_step, required_config


def _check_run_metric(config: dict[str, Any], workflow: Workflow | None) -> None:
    name = config.get("metric")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError('A run_metric step needs "metric": the name of a metric.')
    if workflow is None or workflow.organization_id is None:
        return  # the workflow's own form reports its missing organization
    if not Metric.objects.filter(organization_id=workflow.organization_id, name=name).exists():
        raise ValidationError(f"There is no metric named “{name}” in {workflow.organization}.")


@register_step(StepKind.RUN_METRIC, check=_check_run_metric)
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
