from __future__ import annotations

import pytest
from django.core.management import call_command

from lineage.assistant.planner import AskContext
from lineage.metrics.models import Metric
from lineage.tenancy.models import Membership, Organization


@pytest.fixture
def demo(db):
    """The seeded demo organization plus a second "Daily …" metric, so that
    "daily" alone is ambiguous."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    acme = Organization.objects.get(slug="acme")
    Metric.objects.create(organization=acme, name="Daily refunds", sql="SELECT 3", schedule="")
    return acme


@pytest.fixture
def ctx(demo):
    return AskContext(organization=demo, org_ids=[demo.pk], can_run=True)


@pytest.fixture
def demo_user(demo):
    return Membership.objects.get(organization=demo).user
