from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lineage.metrics.registry import registered_metric
from lineage.metrics.schedules import (
    SCHEDULER_GRACE,
    Ticks,
    next_tick,
    ticks_between,
    validate_cron,
)
from lineage.metrics.sql import validate_single_select
from lineage.observability.subjects import subject_for
from lineage.tenancy.models import Organization


class MetricKind(models.TextChoices):
    SQL = "sql", "SQL query"
    PYTHON = "python", "Python callable"


class Metric(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="metrics"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=MetricKind.choices, default=MetricKind.SQL)
    sql = models.TextField(blank=True, default="", help_text="One SELECT returning one number. It runs as the organization's own "
        "database role, which reads only the organization's schema.",)
    python_path = models.CharField(
        max_length=300,
        blank=True,
        default="",
        help_text="The name of a callable registered with @register_metric.",
    )
    schedule = models.CharField(
        max_length=100,
        blank=True,
        default="",
        validators=[validate_cron],
        help_text="Cron expression in the server's time zone; empty for no schedule.",
    )
    enabled = models.BooleanField(default=True)
    # The next tick the scheduler owes this metric; claimed and advanced by
    # run_scheduler in one short transaction.
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="metric_name_per_org")
        ]
        indexes = [
            # run_scheduler polls: enabled, scheduled metrics whose tick is due.
            models.Index(
                fields=["next_run_at"],
                name="metric_due",
                condition=Q(enabled=True) & ~Q(schedule=""),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> str:
        return subject_for("metric", self.pk)

    def overdue_ticks(self, now: datetime) -> Ticks | None:
        """The ticks owed and not run by `now`: its next tick is past (and
        past the scheduler's minute), so no scheduler pass has claimed it."""
        if not (self.enabled and self.schedule and self.next_run_at):
            return None
        if self.next_run_at > now - SCHEDULER_GRACE:
            return None
        return ticks_between(self.schedule, self.next_run_at - timedelta(microseconds=1), now)

    def snapshot(self) -> dict[str, Any]:
        """The definition as a run uses it, recorded in each run's trace so
        answers and comparisons can tell what it was then."""
        snapshot: dict[str, Any] = {
            "kind": self.kind,
            "schedule": self.schedule or None,
            "enabled": self.enabled,
        }
        if self.kind == MetricKind.SQL:
            snapshot["sql"] = self.sql
        else:
            snapshot["python_path"] = self.python_path
        return snapshot

    def clean(self) -> None:
        if self.kind == MetricKind.SQL:
            if not self.sql.strip():
                raise ValidationError({"sql": "An SQL metric needs a query."})
            try:
                validate_single_select(self.sql)
            except ValidationError as exc:
                raise ValidationError({"sql": exc.messages}) from None
        elif not self.python_path.strip():
            raise ValidationError({"python_path": "A Python metric needs a registered name."})
        else:
            try:
                registered_metric(self.python_path)
            except ValidationError as exc:
                raise ValidationError({"python_path": exc.messages}) from None

    def save(self, *args, **kwargs) -> None:
        if self.schedule and self.next_run_at is None:
            self.next_run_at = next_tick(self.schedule, timezone.now())
        if not self.schedule:
            self.next_run_at = None
        super().save(*args, **kwargs)


class MetricValue(models.Model):
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="values")
    value = models.FloatField()
    observed_at = models.DateTimeField(default=timezone.now)
    trace_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["metric", "-observed_at"], name="metric_value_series")]

    def __str__(self) -> str:
        return f"{self.metric} = {self.value:g} at {self.observed_at:%Y-%m-%d %H:%M}"
