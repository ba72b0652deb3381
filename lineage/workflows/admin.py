"""Workflows with their steps inline, in order.

Each step kind's config is checked when it is saved, so a webhook without an
http(s) URL or an e-mail without a recipient is a form error here instead of
a failed run later.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from lineage.observability.redaction import redact_value, restore_redacted
from lineage.tenancy.admin import OrganizationScopedAdmin
from lineage.workflows.models import Step, Workflow
from lineage.workflows.steps import check_headers, check_step_config


class StepForm(forms.ModelForm):
    """A step's config is shown with secrets masked (saving it unchanged keeps
    them); its secret headers are never shown, only which are set."""

    secret_headers_text = forms.CharField(
        label="Secret headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text="Sent with a webhook, never shown: one “Name: value” a line "
        "(e.g. Authorization: Bearer …). Empty keeps the ones set; “Name:” alone removes one.",
    )

    class Meta:
        model = Step
        fields = ("position", "name", "kind", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["config"] = redact_value(self.initial.get("config", {}))
        names = sorted(self.instance.secret_headers or {})
        if names:
            self.fields["secret_headers_text"].help_text += " Set: " + ", ".join(
                f"{name} (set)" for name in names
            )

    def clean_config(self) -> Any:
        return restore_redacted(self.cleaned_data.get("config"), self.instance.config)

    def clean_secret_headers_text(self) -> dict[str, str]:
        headers = dict(self.instance.secret_headers or {})
        for line in self.cleaned_data["secret_headers_text"].splitlines():
            if not line.strip():
                continue
            name, separator, value = line.partition(":")
            if not separator:
                raise ValidationError(f"“{line.strip()[:40]}” is not “Name: value”.")
            if value.strip():
                headers[name.strip()] = value.strip()
            else:
                headers.pop(name.strip(), None)
        check_headers(headers, secret=True)
        return headers

    def save(self, commit: bool = True) -> Step:
        self.instance.secret_headers = self.cleaned_data.get(
            "secret_headers_text", self.instance.secret_headers
        )
        return super().save(commit)

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
class WorkflowAdmin(OrganizationScopedAdmin):
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
