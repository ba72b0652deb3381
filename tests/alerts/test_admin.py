"""The alert rule admin."""
from __future__ import annotations

from django.urls import reverse

from lineage.alerts.models import AlertRule
from tests.factories import make_metric, traced_db

pytestmark = traced_db


def alert_form(org, metric, **changes):
    data = {
        "organization": org.pk,
        "name": "Too many",
        "metric": metric.pk,
        "operator": ">",
        "threshold": "5",
        "severity": "warning",
        "enabled": "on",
    }
    return {**data, **changes}


def test_alert_admin_rejects_an_operator_outside_the_list(admin_client, org):
    metric = make_metric(org)
    url = reverse("admin:alerts_alertrule_add")

    response = admin_client.post(url, alert_form(org, metric, operator="=>"))

    assert response.context["adminform"].form.errors["operator"] == [
        "Select a valid choice. => is not one of the available choices."
    ]
    assert admin_client.post(url, alert_form(org, metric)).status_code == 302
    assert AlertRule.objects.get(name="Too many").operator == ">"


def test_alert_admin_rejects_another_organizations_metric(admin_client, org, other_org):
    foreign = make_metric(other_org, name="Their revenue")
    response = admin_client.post(reverse("admin:alerts_alertrule_add"), alert_form(org, foreign))
    assert response.context["adminform"].form.errors["metric"] == [
        "“Their revenue” belongs to another organization."
    ]
