"""seed_demo: the README's demo organization."""
from __future__ import annotations

from lineage.metrics.models import Metric
from lineage.workflows.models import Step
from tests.factories import run_command, traced_db

pytestmark = traced_db


def test_seed_demo_is_idempotent(seeded):
    counts = (Metric.objects.count(), Step.objects.count())
    assert "sign in as demo / demo" in run_command("seed_demo")
    assert (Metric.objects.count(), Step.objects.count()) == counts == (2, 4)
