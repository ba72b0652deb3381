"""Evaluating alert rules against a new metric value."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from lineage.alerts.models import AlertRule, compare, margin
from lineage.metrics.models import Metric
from lineage.observability.models import TraceType
from lineage.observability.tracer import with_trace
from lineage.workflows.engine import WorkflowRun, run_workflow
from lineage.workflows.models import Step, Workflow


@dataclass
class Verdict:
    """What a rule decides on a value: whether it fires, by how much, and
    the enabled workflows it would start."""

    rule: AlertRule
    value: float
    fired: bool
    margin: float
    workflows: list[Workflow]


def judge(rule: AlertRule, value: float) -> Verdict:
    fired = compare(value, rule.operator, rule.threshold)
    workflows = [w for w in rule.workflows.all() if w.enabled] if fired else []
    return Verdict(rule, value, fired, margin(value, rule.operator, rule.threshold), workflows)


def preview_alerts(metric: Metric, value: float) -> list[Verdict]:
    """What evaluate_alerts would decide on `value`, with no trace written
    and no workflow started (a dry run)."""
    return [judge(rule, value) for rule in rules_for(metric)]


@dataclass
class AlertOutcome:
    rule: AlertRule
    trace_id: uuid.UUID
    fired: bool
    workflow_runs: list[WorkflowRun] = field(default_factory=list)


# Where prefetch_rules() leaves a metric's rules for evaluate_alerts.
PREFETCHED_RULES = "enabled_rules"


def _enabled_rules() -> QuerySet[AlertRule]:
    """Enabled rules by name, with their enabled workflows and those
    workflows' steps in order."""
    enabled_workflows = Workflow.objects.filter(enabled=True).prefetch_related(
        Prefetch("steps", queryset=Step.objects.order_by("position"))
    )
    return (
        AlertRule.objects.filter(enabled=True)
        .order_by("name")
        .prefetch_related(Prefetch("workflows", queryset=enabled_workflows))
    )


def rules_for(metric: Metric) -> list[AlertRule]:
    """The metric's enabled rules: those prefetch_rules() left on it, else queried."""
    prefetched = getattr(metric, PREFETCHED_RULES, None)
    return list(_enabled_rules().filter(metric=metric)) if prefetched is None else prefetched


def prefetch_rules(metrics: list[Metric]) -> None:
    """Load the rules of many metrics in three queries, whatever their
    number; evaluate_alerts then uses them instead of querying per metric.
    The scheduler does this for each batch of metrics it claims (a rule
    changed while the batch runs applies from the next batch)."""
    prefetch_related_objects(
        metrics, Prefetch("alert_rules", queryset=_enabled_rules(), to_attr=PREFETCHED_RULES)
    )


def evaluate_alerts(
    metric: Metric, value: float, *, parents: Iterable[uuid.UUID] | None = None
) -> list[AlertOutcome]:
    """One `alert` trace per enabled rule, fired or not; a fired rule starts
    its enabled workflows as children of its trace."""
    parents = None if parents is None else list(parents)
    outcomes = []
    for rule in rules_for(metric):
        with with_trace(
            TraceType.ALERT,
            name=rule.name,
            subject=rule.subject,
            inputs={"metric": metric.name, "value": value, **rule.snapshot()},
            parents=parents,
            org=rule.organization_id,
        ) as trace:
            verdict = judge(rule, value)
            trace.outputs.update(
                fired=verdict.fired,
                margin=verdict.margin,
                workflows=[w.name for w in verdict.workflows],
            )
        outcome = AlertOutcome(rule, trace.id, verdict.fired)
        if verdict.fired:
            context = {
                "alert": rule.name,
                "severity": rule.severity,
                "metric": metric.name,
                "value": value,
                "operator": rule.operator,
                "threshold": rule.threshold,
            }
            for workflow in verdict.workflows:
                outcome.workflow_runs.append(
                    run_workflow(workflow, context=context, parents=[trace.id])
                )
        outcomes.append(outcome)
    return outcomes
