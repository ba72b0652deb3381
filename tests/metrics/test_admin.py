"""The metric admin: definitions checked as form errors."""
from __future__ import annotations

import pytest
from django.urls import reverse

from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from tests.factories import traced_db

pytestmark = traced_db


def metric_form(org, **changes):
    data = {
        "organization": org.pk,
        "name": "Signups",
        "kind": "sql",
        "sql": "SELECT 42",
        "python_path": "",
        "schedule": "*/5 * * * *",
        "enabled": "on",
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"schedule": "every day"}, "schedule", "“every day” is not a valid cron expression"),
        ({"schedule": "61 * * * *"}, "schedule", "is not a valid cron expression"),
        (
            {"sql": "SELECT 1; DELETE FROM auth_user"},
            "sql",
            "A metric query must be exactly one SELECT statement; found 2.",
        ),
        ({"sql": "DELETE FROM auth_user"}, "sql", "must be a SELECT statement, not DELETE"),
        ({"sql": "  "}, "sql", "An SQL metric needs a query."),
        (
            {"sql": "SELECT length('\\'); COMMIT; CREATE TABLE pwned (x int); --')"},
            "sql",
            "exactly one SELECT statement; found 3.",
        ),
        (
            {"sql": "SELECT * FROM (WITH d AS (DELETE FROM auth_user RETURNING 1) SELECT * FROM d) s"},
            "sql",
            "A metric query only reads: it cannot contain DELETE.",
        ),
        ({"sql": "SELECT 1 FROM auth_user FOR UPDATE"}, "sql", "cannot lock rows"),
        ({"sql": "SELECT 1 INTO pwned"}, "sql", "cannot SELECT … INTO a table"),
        (
            {"kind": "python", "sql": "", "python_path": "os.abort"},
            "python_path",
            "“os.abort” is not a registered Python metric",
        ),
    ],
)
def test_metric_admin_shows_bad_definitions_as_form_errors(
    admin_client, org, changes, field, message
):
    response = admin_client.post(reverse("admin:metrics_metric_add"), metric_form(org, **changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field])
    assert message.replace("“", "&ldquo;") in response.content.decode() or (
        message in response.content.decode()
    )
    assert not Metric.objects.filter(name="Signups").exists()


def test_metric_admin_saves_a_valid_metric_and_lists_values_read_only(admin_client, org):
    response = admin_client.post(reverse("admin:metrics_metric_add"), metric_form(org))
    assert response.status_code == 302
    metric = Metric.objects.get(name="Signups")
    assert metric.next_run_at is not None
    run_metric_execution(metric)

    values = admin_client.get(reverse("admin:metrics_metricvalue_changelist"))
    assert values.status_code == 200
    assert "Signups" in values.content.decode()
    assert admin_client.get(reverse("admin:metrics_metricvalue_add")).status_code == 403
