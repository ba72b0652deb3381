from __future__ import annotations

from django.db import models

from lineage.observability.subjects import subject_for
from lineage.tenancy.models import Organization


class Workflow(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="workflows"
    )
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="workflow_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> str:
        return subject_for("workflow", self.pk)

    def snapshot(self, steps: list[Step]) -> dict:
        """The workflow as a run uses it, recorded in each run's trace: the
        plan, so a page can show the steps a failure kept from running even
        after the definition changes."""
        return {
            "enabled": self.enabled,
            "steps": [{"position": s.position, "name": s.name, "kind": s.kind} for s in steps],
        }


class StepKind(models.TextChoices):
    LOG = "log", "Log a message"
    WEBHOOK = "webhook", "POST to a webhook"
    EMAIL = "email", "Send an e-mail"
    RUN_METRIC = "run_metric", "Run a metric"


class Step(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)
    # Header name → value sent with a webhook (Authorization …): read only by
    # the engine, never shown on a page, in a trace or in admin (which says
    # which are set).
    secret_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["workflow", "position"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "position"], name="step_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    @property
    def subject(self) -> str:
        return subject_for("step", self.pk)
