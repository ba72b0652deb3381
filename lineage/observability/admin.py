"""Admin for execution traces, built for inspecting failures.

Traces are a record of what happened: nobody adds, edits or deletes them
here (old ones go with `prune_traces`). Engines may add actions that start
new runs from selected traces with `register_trace_action` — observability
imports no engine, so the re-run action is registered by the execution app.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from lineage.observability.formatting import (
    cut_middle,
    format_ago,
    format_duration,
    format_json,
    format_timestamp,
)
from lineage.observability.ids import id_fragment_condition, is_id_like
from lineage.observability.models import ExecutionTrace
from lineage.observability.redaction import redact
from lineage.tenancy.admin import OrganizationScopedAdmin

# Actions registered by engines; ExecutionTraceAdmin reads the list per request.
TRACE_ACTIONS: list[Callable[..., Any]] = []
CHILDREN_SHOWN = 50
# Characters of an error the trace list shows (the whole summary on hover).
ERROR_COLUMN = 72


def register_trace_action(action: Callable[..., Any]) -> Callable[..., Any]:
    TRACE_ACTIONS.append(action)
    return action


def pretty_json(value: Any) -> str:
    return format_html('<pre class="lineage-json">{}</pre>', format_json(value))


def _admin_link(trace_id: uuid.UUID, text: str) -> str:
    url = reverse("admin:observability_executiontrace_change", args=[trace_id])
    return format_html('<a href="{}">{}</a>', url, text)


class ReadOnlyAdmin(OrganizationScopedAdmin):
    """Records the engines wrote: staff inspect them (their organizations'),
    nobody edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExecutionTrace)
class ExecutionTraceAdmin(ReadOnlyAdmin):
    # Source is a filter, not a column: with the admin's navigation beside it,
    # the list fits 1,440 px with its error column.
    list_display = (
        "short_id_link",
        "trace_type",
        "name",
        "status",
        "organization",
        "started_column",
        "duration_display",
        "error_column",
    )
    list_display_links = None
    list_filter = ("status", "trace_type", "source", "org", "started_at")
    search_fields = ("name", "error")
    search_help_text = (
        "Name or error text, or a trace id: whole, its first digits, or the short id the"
        " pages show (its last 8 digits)."
    )
    date_hierarchy = "started_at"
    list_select_related = ("org",)
    # Ids are time-ordered, so newest first by primary key is the index's
    # order: no sort of the whole table when no organization is filtered.
    ordering = ("-id",)
    # The full count of a million-row table on every page load is not worth it.
    show_full_result_count = False
    actions = TRACE_ACTIONS
    class Media:
        css = {"all": ["css/lineage-admin.css"]}

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "links",
                    "trace_type",
                    "name",
                    "status",
                    "source",
                    "subject",
                    "org",
                    "started_display",
                    "completed_display",
                    "duration_display",
                )
            },
        ),
        ("Error", {"fields": ("error_display",)}),
        ("Lineage", {"fields": ("caused_by", "led_to")}),
        ("Inputs and outputs", {"fields": ("inputs_display", "outputs_display")}),
    )
    readonly_fields = (
        "started_display",
        "completed_display",
        "links",
        "duration_display",
        "error_display",
        "caused_by",
        "led_to",
        "inputs_display",
        "outputs_display",
    )

    def has_run_permission(self, request: HttpRequest) -> bool:
        """Actions that start runs from traces ask for this."""
        return request.user.has_perm("observability.change_executiontrace")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # A pasted id, its first digits or the short id the pages show: the
        # primary key and the reversed-id index answer it, never a text scan.
        by_id = id_fragment_condition(search_term)
        if by_id is not None and is_id_like(search_term):
            return queryset.filter(by_id), False
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if by_id is not None:  # a word like "facade" is both: names and ids
            found |= queryset.filter(by_id)
        return found, may_have_duplicates

    @admin.display(description="id", ordering="id")
    def short_id_link(self, trace: ExecutionTrace) -> str:
        return _admin_link(trace.id, trace.short_id)

    @admin.display(description="organization", ordering="org__name")
    def organization(self, trace: ExecutionTrace) -> str:
        return trace.org.name

    @admin.display(description="duration")
    def duration_display(self, trace: ExecutionTrace) -> str:
        return format_duration(trace.duration)

    @admin.display(description="started", ordering="started_at")
    def started_display(self, trace: ExecutionTrace) -> str:
        return format_timestamp(trace.started_at)

    @admin.display(description="started", ordering="started_at")
    def started_column(self, trace: ExecutionTrace) -> str:
        """As the pages show it: “12 min ago”, the exact time on hover."""
        return format_html(
            '<time title="{}">{}</time>', format_timestamp(trace.started_at), format_ago(trace.started_at)
        )

    @admin.display(description="finished")
    def completed_display(self, trace: ExecutionTrace) -> str:
        return format_timestamp(trace.completed_at)

    @admin.display(description="error")
    def error_column(self, trace: ExecutionTrace) -> str:
        """The error's first line, cut in the middle so its cause shows."""
        if not trace.error:
            return "—"
        return format_html(
            '<span class="lineage-error-line" title="{}">{}</span>',
            trace.error_summary,
            cut_middle(trace.error_summary, ERROR_COLUMN),
        )

    @admin.display(description="open")
    def links(self, trace: ExecutionTrace) -> str:
        pages = [("web:trace-detail", "Trace page"), ("web:trace-lineage-svg", "Lineage graph")]
        links = []
        for name, text in pages:
            try:
                links.append((reverse(name, args=[trace.id]), text))
            except NoReverseMatch:
                continue  # the dashboard is not mounted (e.g. an admin-only deployment)
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "—"

    @admin.display(description="error")
    def error_display(self, trace: ExecutionTrace) -> str:
        if not trace.error:
            return "—"
        return format_html('<pre class="lineage-error">{}</pre>', redact(trace.error))

    @admin.display(description="caused by")
    def caused_by(self, trace: ExecutionTrace) -> str:
        parents = {t.id: t for t in ExecutionTrace.objects.parents_of(trace)}
        items = [
            _admin_link(pid, str(parents[pid])) if pid in parents else f"deleted trace {pid}"
            for pid in dict.fromkeys(trace.dependencies)
        ]
        return format_html_join("", "<div>{}</div>", ((item,) for item in items)) or "nothing"

    @admin.display(description="led to")
    def led_to(self, trace: ExecutionTrace) -> str:
        children = ExecutionTrace.objects.children_of(trace.id)[:CHILDREN_SHOWN]
        items = [(_admin_link(child.id, str(child)),) for child in children]
        return format_html_join("", "<div>{}</div>", items) or "nothing"

    @admin.display(description="inputs")
    def inputs_display(self, trace: ExecutionTrace) -> str:
        return pretty_json(trace.inputs)

    @admin.display(description="outputs")
    def outputs_display(self, trace: ExecutionTrace) -> str:
        return pretty_json(trace.outputs)
