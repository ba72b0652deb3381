from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.db import transaction

from lineage.alerts.models import AlertRule
from lineage.assistant.planner import AskContext
from lineage.metrics.models import Metric
from lineage.tenancy.models import Organization
from lineage.workflows.models import Workflow


@pytest.fixture(scope="module")
def named(django_db_setup, django_db_blocker):
    """The demo's names and a few more that make questions hard — “Daily
    refunds” (so “daily” alone is ambiguous), a disabled “Revenue drop”
    alert (so “the revenue alert” is), a “Weekend digest” workflow (a name
    made of a time word) — built once for a module of planning tests, in a
    transaction rolled back at its end. Planning reads, it never writes."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=open(os.devnull, "w"))
        acme = Organization.objects.get(slug="acme")
        Metric.objects.create(organization=acme, name="Daily refunds", sql="SELECT 3")
        revenue = Metric.objects.get(organization=acme, name="Daily revenue")
        AlertRule.objects.create(
            organization=acme, name="Revenue drop", metric=revenue, operator="<",
            threshold=1000, enabled=False,
        )  # fmt: skip
        Workflow.objects.create(organization=acme, name="Weekend digest")
        yield acme
        transaction.set_rollback(True)


@pytest.fixture
def planning(named, db):
    """Asking about `named` as an editor, at a fixed moment."""
    return AskContext(organization=named, org_ids=[named.pk], can_run=True)
