"""Workflows with their steps inline, in order.

Each step kind's config is checked when it is saved, so a webhook without an
http(s) URL or an e-mail without a recipient is a form error here instead of
a failed run later.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from lineage.workflows.models import Step, Workflow
from lineage.workflows.steps import check_step_config


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ("position", "name", "kind", "config")

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, config = cleaned.get("kind"), cleaned.get("config")
        if kind is None or "config" not in cleaned:
            return cleaned
        # An inline's foreign key field cleans to its parent, saved or not.
        workflow = cleaned.get("workflow") or getattr(self.instance, "workflow", None)
        try:
            check_step_config(kind, config, workflow)
        except ValidationError as error:
            self.add_error("config", error)
        return cleaned


class StepInline(admin.StackedInline):
    model = Step
    form = StepForm
    extra = 0
    ordering = ("position",)


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "enabled", "step_count")
    list_filter = ("organization", "enabled")
    list_select_related = ("organization",)
    search_fields = ("name",)
    inlines = (StepInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workflow]:
        return super().get_queryset(request).annotate(step_total=Count("steps"))

    @admin.display(description="steps", ordering="step_total")
    def step_count(self, workflow: Workflow) -> int:
        return workflow.step_total
