"""run_metric and run_scheduler: running metrics from a terminal and from cron."""
from __future__ import annotations

from lineage.metrics.models import Metric, MetricValue
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


def test_run_metric_dry_run_says_what_would_fire_and_records_nothing(seeded):
    before = ExecutionTrace.objects.count(), MetricValue.objects.count()

    out = run_command("run_metric", "Daily revenue", "--org", "acme", "--dry-run")

    assert out.splitlines() == [
        "Metric “Daily revenue” would be 12,840.",
        "Alert “Revenue spike” would fire (12,840 > 10,000, by 2,840) and start workflow "
        "“Notify on-call” (2 steps).",
        "Nothing was recorded: no trace, no stored value, no workflow started.",
    ]
    data = run_command_json("run_metric", "Open orders", "--org", "acme", "--dry-run")
    assert data == {
        "metric": "Open orders", "value": 7.0, "error": "",
        "alerts": [{"name": "Orders piling up", "operator": ">", "threshold": 5.0, "fired": True,
                    "margin": 2.0, "workflows": [{"name": "Page ops", "steps": 2}]}],
    }  # fmt: skip
    assert (ExecutionTrace.objects.count(), MetricValue.objects.count()) == before


def test_run_metric_dry_run_of_a_failing_metric_says_how_it_would_fail(seeded):
    Metric.objects.filter(name="Open orders").update(sql="SELECT count(*) FROM no_such_table")
    out = run_command("run_metric", "Open orders", "--org", "acme", "--dry-run")
    assert out.startswith("Metric “Open orders” would fail: its query failed: relation \"no_such_table\" does not exist")
    assert not ExecutionTrace.objects.exists()
