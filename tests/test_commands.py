"""The management commands: the cron and terminal interface."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Organization
from lineage.workflows.models import Step
from tests.factories import make_metric, make_org, traced_db

pytestmark = traced_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args):
    return json.loads(run(*args, "--json"))


@pytest.fixture
def demo(db):
    run("seed_demo")
    return Organization.objects.get(slug="acme")


def test_seed_demo_is_idempotent(demo):
    counts = (Metric.objects.count(), Step.objects.count())
    assert "sign in as demo / demo" in run("seed_demo")
    assert (Metric.objects.count(), Step.objects.count()) == counts == (2, 4)


def test_run_metric_prints_the_whole_chain_as_json(demo):
    traces = run_json("run_metric", "Daily revenue", "--org", "acme")

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


def test_failing_chain_and_its_explanation(demo):
    traces = run_json("run_metric", "Open orders", "--org", "acme")
    workflow = next(t for t in traces if t["trace_type"] == "workflow")
    assert (workflow["name"], workflow["status"]) == ("Page ops", "failed")

    text = run("explain", workflow["id"])

    assert "Workflow “Page ops” ran because alert “Orders piling up” fired (value 7 > threshold 5, by 2)" in text
    assert "failed at step 1 “Page the ops channel” (webhook)" in text
    assert "metric “Open orders” computed 7" in text


def test_explain_and_lineage_take_the_short_id_the_pages_show_or_a_prefix(demo):
    [workflow, *steps] = run_json("run_workflow", "Notify on-call", "--org", "acme")
    short_id = workflow["id"][-8:]  # what the dashboard shows
    prefix = workflow["id"][:23]  # past the millisecond timestamp into the random bits

    assert run("explain", short_id) == run("explain", workflow["id"])
    assert run("explain", prefix.upper()) == run("explain", workflow["id"])
    assert "▶  +0  workflow succeeded Notify on-call" in run("lineage", short_id)


def test_an_id_fragment_matching_several_traces_asks_for_more(demo):
    traces = run_json("run_metric", "Daily revenue", "--org", "acme")
    shared_prefix = traces[0]["id"][:6]  # time-ordered: ids made within hours share it
    assert all(t["id"].startswith(shared_prefix) for t in traces)

    with pytest.raises(CommandError, match=f"Several traces match “{shared_prefix}”; give more of the id."):
        call_command("explain", shared_prefix, stdout=StringIO())


def test_run_scheduler_runs_what_is_due(demo):
    out = run("run_scheduler", "--now", "2099-01-01T00:00")
    assert "acme/Daily revenue = 12840" in out and "fired: Revenue spike" in out
    assert "2 metric(s) ran." in out
    assert "0 metric(s) ran." in run("run_scheduler", "--now", "2099-01-01T00:00")


def test_run_scheduler_for_one_organization_leaves_the_others_due(demo):
    globex = make_org("globex")
    make_metric(globex, name="Signups", sql="SELECT 3")
    Metric.objects.update(next_run_at="2001-01-01T00:00Z")

    out = run("run_scheduler", "--now", "2099-01-01T00:00", "--org", "globex")

    assert "globex/Signups = 3" in out and "1 metric(s) ran." in out
    assert "2 metric(s) ran." in run("run_scheduler", "--now", "2099-01-01T00:00")  # acme's


def test_run_workflow_and_lineage_formats(demo):
    [workflow, *steps] = run_json("run_workflow", "Notify on-call", "--org", "acme")
    assert [s["name"] for s in steps] == ["Log the spike", "E-mail on-call"]

    text = run("lineage", workflow["id"], "--direction", "down")
    assert "▶  +0  workflow succeeded Notify on-call" in text
    data = json.loads(run("lineage", workflow["id"], "--format", "json"))
    assert {n["name"] for n in data["nodes"]} == {"Notify on-call", "Log the spike", "E-mail on-call"}
    assert len(data["edges"]) == 2
    assert run("lineage", workflow["id"], "--format", "dot").lstrip().startswith("digraph")


def test_traces_lists_with_filters(demo):
    run("run_metric", "Open orders", "--org", "acme")
    failed = run_json("traces", "--org", "acme", "--status", "failed", "--since", "1h")
    assert {t["name"] for t in failed} == {"Page ops", "Page the ops channel"}
    assert set(failed[0]) == {
        "id", "trace_type", "name", "status", "dependencies", "source",
        "started_at", "completed_at", "error",
    }
    assert len(run_json("traces", "--limit", "2")) == 2
    assert "Page ops" in run("traces", "--type", "workflow")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run_metric", "Daily revnue", "--org", "acme"], "No metric named “Daily revnue”. Did you mean “Daily revenue”?"),
        (["run_workflow", "page opps", "--org", "acme"], "Did you mean “Page ops”?"),
        (["run_metric", "Daily revenue", "--org", "acme-corp"], "No organization “acme-corp”. Did you mean “acme”?"),
        (["explain", "not-a-uuid"], "“not-a-uuid” is not a trace id: give the whole id, or at least its first or last 6 hex digits."),
        (["explain", "abc12"], "“abc12” is not a trace id"),
        (["explain", "fedcba987"], "No trace id matches “fedcba987”."),
        (["explain", "01a2b3c4-0000-7000-8000-000000000000"], "No trace with id"),
        (["lineage", "01a2b3c4-0000-7000-8000-000000000000"], "No trace with id"),
        (["lineage", "01a2b3c4-0000-7000-8000-000000000000", "--depth", "0"], "--depth must be between 1 and 100"),
        (["traces", "--since", "yesterday"], "--since must look like 30m, 24h, 7d or 2w"),
        (["traces", "--since", "99999999999w"], "--since must be at most 100 years"),
        (["traces", "--since", "5300w"], "--since must be at most 100 years"),
        (["prune_traces", "--older-than", "abc"], "--older-than must look like 30m, 24h, 7d or 2w"),
        (["prune_traces", "--stale-after", "9999999999d"], "--stale-after must be at most 100 years"),
        (["traces", "--limit", "0"], "--limit must be between 1 and 10000"),
        (["run_scheduler", "--now", "tuesday"], "--now must be an ISO-8601 time"),
        (["run_scheduler", "--org", "acme-corp"], "No organization “acme-corp”. Did you mean “acme”?"),
    ],
)
def test_bad_input_is_a_one_line_command_error(demo, args, message):
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=StringIO())
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_without_org_the_only_organization_is_used_but_several_need_one(demo):
    assert run_json("traces") == []
    make_org("globex")
    with pytest.raises(CommandError, match="choose one with --org"):
        call_command("traces", stdout=StringIO())
