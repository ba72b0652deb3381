"""run_metric and run_scheduler: running metrics from a terminal and from cron."""
from __future__ import annotations

from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from tests.factories import make_metric, make_org, run_command, run_command_json, traced_db

pytestmark = traced_db


def test_run_metric_prints_the_whole_chain_as_json(seeded):
    traces = run_command_json("run_metric", "Daily revenue", "--org", "acme")

    assert [(t["trace_type"], t["name"], t["status"]) for t in traces] == [
        ("metric", "Daily revenue", "succeeded"),
        ("alert", "Revenue spike", "succeeded"),
        ("workflow", "Notify on-call", "succeeded"),
        ("step", "Log the spike", "succeeded"),
        ("step", "E-mail on-call", "succeeded"),
    ]
    metric, alert, workflow = traces[:3]
    assert metric["dependencies"] == []
    assert alert["dependencies"] == [metric["id"]]
    assert workflow["dependencies"] == [alert["id"]]
    first = ExecutionTrace.objects.get(pk=metric["id"])
    assert first.source == "manual"
    assert first.inputs["started_by"].endswith("(terminal)")


def test_run_scheduler_runs_what_is_due(seeded):
    out = run_command("run_scheduler", "--now", "2099-01-01T00:00")
    assert "acme/Daily revenue = 12840" in out and "fired: Revenue spike" in out
    assert "2 metric(s) ran." in out
    assert "0 metric(s) ran." in run_command("run_scheduler", "--now", "2099-01-01T00:00")


def test_run_scheduler_for_one_organization_leaves_the_others_due(seeded):
    globex = make_org("globex")
    make_metric(globex, name="Signups", sql="SELECT 3")
    Metric.objects.update(next_run_at="2001-01-01T00:00Z")

    out = run_command("run_scheduler", "--now", "2099-01-01T00:00", "--org", "globex")

    assert "globex/Signups = 3" in out and "1 metric(s) ran." in out
    assert "2 metric(s) ran." in run_command("run_scheduler", "--now", "2099-01-01T00:00")  # acme's
