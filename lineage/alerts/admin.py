"""Alert rules. The operator is a choice field, so anything outside the
list is a form error; the metric and workflows must be the rule's own
organization's."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from lineage.alerts.models import AlertRule
from lineage.tenancy.admin import OrganizationScopedAdmin


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = (
            "organization",
            "name",
            "metric",
            "operator",
            "threshold",
            "severity",
            "enabled",
            "workflows",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is None:
            return cleaned
        metric = cleaned.get("metric")
        if metric is not None and metric.organization_id != organization.pk:
            self.add_error("metric", f"“{metric}” belongs to another organization.")
        foreign = [
            w.name for w in cleaned.get("workflows", []) if w.organization_id != organization.pk
        ]
        if foreign:
            self.add_error("workflows", f"Not in {organization}: {', '.join(foreign)}.")
        return cleaned


@admin.register(AlertRule)
class AlertRuleAdmin(OrganizationScopedAdmin):
    form = AlertRuleForm
    list_display = ("name", "organization", "condition", "severity", "enabled")
    list_filter = ("organization", "severity", "enabled")
    list_select_related = ("organization", "metric")
    search_fields = ("name", "metric__name")
    filter_horizontal = ("workflows",)

    @admin.display(description="fires when")
    def condition(self, rule: AlertRule) -> str:
        return rule.condition
