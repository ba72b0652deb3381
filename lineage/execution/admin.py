"""The trace admin's "Re-run" action, which needs the execution engine."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from lineage.execution.rerun import CannotRerun, rerun
from lineage.observability.admin import register_trace_action


@register_trace_action
@admin.action(description="Re-run failed metric or workflow runs", permissions=["run"])
def rerun_failed(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    started, skipped = [], []
    for trace in queryset.order_by("started_at"):
        try:
            started.append((trace, rerun(trace)))
        except CannotRerun as reason:
            skipped.append((trace.get_trace_type_display(), trace.name, str(reason)))
    if started:
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:observability_executiontrace_change", args=[new_id]), trace.name)
                for trace, new_id in started
            ),
        )
        modeladmin.message_user(
            request, format_html("Re-ran {} failed run(s): {}.", len(started), links)
        )
    if skipped:
        reasons = format_html_join("; ", "{} “{}”: {}", skipped)
        modeladmin.message_user(
            request,
            format_html("Skipped {} trace(s): {}.", len(skipped), reasons),
            level=messages.WARNING,
        )
