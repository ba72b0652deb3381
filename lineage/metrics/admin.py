"""Metric definitions and their values.

Validation lives on the model (`validate_cron` on the schedule, `clean()` for
"one SELECT"); the admin's form runs it, so a bad cron expression or a
second statement is a form error on its field.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from lineage.metrics.models import Metric, MetricValue
from lineage.observability.admin import ReadOnlyAdmin
from lineage.observability.ids import short_trace_id
from lineage.tenancy.admin import OrganizationScopedAdmin


@admin.register(Metric)
class MetricAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "kind", "schedule", "enabled", "next_run_at")
    list_filter = ("organization", "kind", "enabled")
    list_select_related = ("organization",)
    search_fields = ("name", "sql", "python_path")
    readonly_fields = ("next_run_at", "created_at")
    fields = (
        "organization",
        "name",
        "kind",
        "sql",
        "python_path",
        "schedule",
        "enabled",
        "next_run_at",
        "created_at",
    )


@admin.register(MetricValue)
class MetricValueAdmin(ReadOnlyAdmin):
    """The time series, read-only: values are written by metric runs."""

    list_display = ("metric", "organization", "value", "observed_at", "trace_link")
    organization_lookup = "metric__organization"
    list_filter = ("metric__organization", "metric")
    list_select_related = ("metric__organization",)
    date_hierarchy = "observed_at"
    show_full_result_count = False

    @admin.display(description="organization", ordering="metric__organization__name")
    def organization(self, value: MetricValue) -> str:
        return str(value.metric.organization)

    @admin.display(description="trace")
    def trace_link(self, value: MetricValue) -> str:
        if value.trace_id is None:
            return "—"
        url = reverse("admin:observability_executiontrace_change", args=[value.trace_id])
        return format_html('<a href="{}">{}</a>', url, short_trace_id(value.trace_id))
