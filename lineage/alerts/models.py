from __future__ import annotations

import operator as op
from typing import Any

from django.db import models

from lineage.metrics.models import Metric
from lineage.observability.subjects import subject_for
from lineage.tenancy.models import Organization
from lineage.workflows.models import Workflow


class Operator(models.TextChoices):
    GT = ">", ">"
    GTE = ">=", ">="
    LT = "<", "<"
    LTE = "<=", "<="
    EQ = "==", "=="
    NE = "!=", "!="


COMPARISONS = {
    Operator.GT: op.gt,
    Operator.GTE: op.ge,
    Operator.LT: op.lt,
    Operator.LTE: op.le,
    Operator.EQ: op.eq,
    Operator.NE: op.ne,
}


def compare(value: float, operator: str, threshold: float) -> bool:
    return COMPARISONS[Operator(operator)](value, threshold)


def margin(value: float, operator: str, threshold: float) -> float:
    """How far past the threshold (positive) or short of it (negative or zero)."""
    if operator in (Operator.GT, Operator.GTE):
        return value - threshold
    if operator in (Operator.LT, Operator.LTE):
        return threshold - value
    if operator == Operator.EQ:
        return -abs(value - threshold)
    return abs(value - threshold)


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertRule(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(max_length=200)
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="alert_rules")
    operator = models.CharField(max_length=2, choices=Operator.choices, default=Operator.GT)
    threshold = models.FloatField()
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    enabled = models.BooleanField(default=True)
    workflows = models.ManyToManyField(Workflow, blank=True, related_name="alert_rules")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="alert_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> str:
        return subject_for("alert", self.pk)

    def snapshot(self) -> dict[str, Any]:
        """The rule as an evaluation uses it, recorded in each evaluation's
        trace: its comparison and the enabled workflows it starts."""
        return {
            "operator": self.operator,
            "threshold": self.threshold,
            "severity": self.severity,
            "enabled": self.enabled,
            # Filtered here, not in SQL: the scheduler prefetches the enabled ones.
            "workflows": [w.name for w in self.workflows.all() if w.enabled],
        }

    @property
    def condition(self) -> str:
        return f"{self.metric.name} {self.operator} {self.threshold:g}"
