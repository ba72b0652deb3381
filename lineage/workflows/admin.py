"""Workflows with their steps inline, in order.

Each step kind's config is checked when it is saved, so a webhook without an
http(s) URL or an e-mail without a recipient is a form error here instead of
a failed run later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from lineage.metrics.models import Metric
from lineage.workflows.models import Step, StepKind, Workflow

ConfigCheck = Callable[[dict[str, Any], Workflow | None], None]


def _check_webhook(config: dict[str, Any], workflow: Workflow | None) -> None:
    url = config.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValidationError('A webhook step needs "url": an http:// or https:// address.')
    timeout = config.get("timeout")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValidationError('"timeout" must be a positive number of seconds.')


def _check_email(config: dict[str, Any], workflow: Workflow | None) -> None:
    recipients = config.get("to")
    if isinstance(recipients, str):
        recipients = [recipients]
    if not recipients or not isinstance(recipients, list):
        raise ValidationError('An e-mail step needs "to": an address or a list of addresses.')
    validate = EmailValidator()
    for address in recipients:
        try:
            validate(address)
        except ValidationError:
            raise ValidationError(f'"to" has an invalid address: {address!r}.') from None


def _check_run_metric(config: dict[str, Any], workflow: Workflow | None) -> None:
    name = config.get("metric")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError('A run_metric step needs "metric": the name of a metric.')
    if workflow is None or workflow.organization_id is None:
        return  # the workflow's own form reports its missing organization
    if not Metric.objects.filter(organization_id=workflow.organization_id, name=name).exists():
        raise ValidationError(f"There is no metric named “{name}” in {workflow.organization}.")


def _check_log(config: dict[str, Any], workflow: Workflow | None) -> None:
    if not isinstance(config.get("message", ""), str):
        raise ValidationError('"message" must be text.')


def _has_nul(value: Any) -> bool:
    """A NUL character anywhere in a JSON value, keys included: PostgreSQL's
    jsonb cannot store one."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


CONFIG_CHECKS: dict[str, ConfigCheck] = {
    StepKind.LOG: _check_log,
    StepKind.WEBHOOK: _check_webhook,
    StepKind.EMAIL: _check_email,
    StepKind.RUN_METRIC: _check_run_metric,
}


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ("position", "name", "kind", "config")

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, config = cleaned.get("kind"), cleaned.get("config")
        if kind is None or "config" not in cleaned:
            return cleaned
        if not isinstance(config, dict):
            self.add_error("config", 'The config must be a JSON object, e.g. {"url": "https://…"}.')
            return cleaned
        if _has_nul(config):
            self.add_error("config", "The config cannot contain a NUL character (\\u0000).")
            return cleaned
        # An inline's foreign key field cleans to its parent, saved or not.
        workflow = cleaned.get("workflow") or getattr(self.instance, "workflow", None)
        try:
            CONFIG_CHECKS[kind](config, workflow)
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
