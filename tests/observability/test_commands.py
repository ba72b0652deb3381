"""explain, lineage and traces: reading traces from a terminal."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_org, run_command, run_command_json, traced_db

pytestmark = traced_db


def test_explain_tells_why_a_failed_workflow_ran_and_where_it_failed(seeded):
    traces = run_command_json("run_metric", "Open orders", "--org", "acme")
    workflow = next(t for t in traces if t["trace_type"] == "workflow")
    assert (workflow["name"], workflow["status"]) == ("Page ops", "failed")

    text = run_command("explain", workflow["id"])

    assert text.startswith("Workflow “Page ops” failed at step 1 “Page the ops channel” (webhook)")
    assert "It ran because alert “Orders piling up” fired (value 7 > threshold 5, by 2)" in text
    assert "metric “Open orders” computed 7" in text


def test_explain_and_lineage_take_the_short_id_the_pages_show_or_a_prefix(seeded):
    [workflow, *steps] = run_command_json("run_workflow", "Notify on-call", "--org", "acme")
    short_id = workflow["id"][-8:]  # what the dashboard shows
    prefix = workflow["id"][:23]  # past the millisecond timestamp into the random bits

    assert run_command("explain", short_id) == run_command("explain", workflow["id"])
    assert run_command("explain", prefix.upper()) == run_command("explain", workflow["id"])
    assert "▶  +0  workflow succeeded Notify on-call" in run_command("lineage", short_id)


def test_an_id_fragment_matching_several_traces_asks_for_more(seeded):
    traces = run_command_json("run_metric", "Daily revenue", "--org", "acme")
    shared_prefix = traces[0]["id"][:6]  # time-ordered: ids made within hours share it
    assert all(t["id"].startswith(shared_prefix) for t in traces)

    with pytest.raises(CommandError, match=f"Several traces match “{shared_prefix}”; give more of the id."):
        call_command("explain", shared_prefix, stdout=StringIO())


def test_lineage_prints_text_json_and_dot(seeded):
    [workflow, *steps] = run_command_json("run_workflow", "Notify on-call", "--org", "acme")
    assert [s["name"] for s in steps] == ["Log the spike", "E-mail on-call"]

    text = run_command("lineage", workflow["id"], "--direction", "down")
    assert "▶  +0  workflow succeeded Notify on-call" in text
    data = json.loads(run_command("lineage", workflow["id"], "--format", "json"))
    assert {n["name"] for n in data["nodes"]} == {"Notify on-call", "Log the spike", "E-mail on-call"}
    assert len(data["edges"]) == 2
    assert run_command("lineage", workflow["id"], "--format", "dot").lstrip().startswith("digraph")


def test_traces_lists_with_filters(seeded):
    run_command("run_metric", "Open orders", "--org", "acme")
    failed = run_command_json("traces", "--org", "acme", "--status", "failed", "--since", "1h")
    assert {t["name"] for t in failed} == {"Page ops", "Page the ops channel"}
    assert set(failed[0]) == {
        "id", "trace_type", "name", "status", "dependencies", "source",
        "started_at", "completed_at", "error",
    }
    assert len(run_command_json("traces", "--limit", "2")) == 2
    assert "Page ops" in run_command("traces", "--type", "workflow")


def test_without_org_the_only_organization_is_used_but_several_need_one(seeded):
    assert run_command_json("traces") == []
    make_org("globex")
    with pytest.raises(CommandError, match="choose one with --org"):
        call_command("traces", stdout=StringIO())
