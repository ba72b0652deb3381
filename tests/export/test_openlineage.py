"""Metric, alert and workflow runs as OpenLineage run events, received by a
real HTTP endpoint on 127.0.0.1 (Marquez's API) or written to a file: valid
run events, START then the end, each linked to the run that caused it, a
metric's input datasets the tables its SQL reads."""
from __future__ import annotations

import json

from lineage.execution.runs import run_metric_execution
from lineage.export.live import live_export
from lineage.observability.models import ExecutionTrace
from lineage.workflows.engine import run_workflow
from tests.export.openlineage_spec import problems
from tests.factories import make_chain, make_workflow, traced_db

pytestmark = traced_db


def by_run(events: list[dict]) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for event in events:
        runs.setdefault(event["run"]["runId"], []).append(event)
    return runs


def test_the_demo_chains_as_valid_run_events_with_parents_and_datasets(demo_chains, receiver):
    runs = by_run(receiver.events)
    named = {name: str(trace.id) for name, trace in demo_chains.items()}

    assert [problems(event) for event in receiver.events] == [[]] * len(receiver.events)
    # Steps are parts of their workflow's run: six runs, each START then its end.
    assert sorted(runs) == sorted(named[n] for n in (
        "Daily revenue", "Revenue spike", "Notify on-call", "Open orders", "Orders piling up", "Page ops"))
    ends = {events[0]["job"]["name"]: [e["eventType"] for e in events] for events in runs.values()}
    assert ends == {
        "metric.Daily revenue": ["START", "COMPLETE"],
        "alert.Revenue spike": ["START", "COMPLETE"],
        "workflow.Notify on-call": ["START", "COMPLETE"],
        "metric.Open orders": ["START", "COMPLETE"],
        "alert.Orders piling up": ["START", "COMPLETE"],
        "workflow.Page ops": ["START", "FAIL"],
    }
    assert {e["job"]["namespace"] for e in receiver.events} == {"lineage.acme"}

    workflow_end = runs[named["Page ops"]][1]
    parent = workflow_end["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == named["Orders piling up"]
    assert (parent["job"]["namespace"], parent["job"]["name"]) == ("lineage.acme", "alert.Orders piling up")
    assert parent["root"]["run"]["runId"] == named["Open orders"]
    assert parent["root"]["job"]["name"] == "metric.Open orders"
    assert workflow_end["run"]["facets"]["errorMessage"]["message"].startswith("StepFailed: step 1")
    alert = runs[named["Revenue spike"]][0]
    assert alert["run"]["facets"]["parent"]["run"]["runId"] == named["Daily revenue"]

    metric_start, metric_end = runs[named["Daily revenue"]]
    assert "parent" not in metric_start["run"]["facets"]  # nothing caused it: its schedule did
    assert metric_start["run"]["facets"]["nominalTime"]["nominalStartTime"]
    assert [(d["namespace"].split(":")[0], d["name"].split(".", 1)[1]) for d in metric_end["inputs"]] == [
        ("postgres", f"lineage_org_{demo_chains['Daily revenue'].org_id}.demo_orders")
    ]
    assert metric_end["job"]["facets"]["sql"]["query"].startswith("SELECT sum(amount)")
    assert metric_start["eventTime"] < metric_end["eventTime"]


def test_a_metric_run_by_a_workflow_step_names_the_workflows_run_as_its_parent(exporting, receiver, org):
    metric, _, _ = make_chain(org, threshold=10**9)  # its alert stays quiet
    refresh = make_workflow(org, name="Refresh", steps=[("run_metric", "Recompute", {"metric": metric.name})])

    run = run_workflow(refresh, source="manual")
    exporting.flush(10)

    step_metric = ExecutionTrace.objects.get(trace_type="metric")
    (end,) = [e for e in receiver.events if e["run"]["runId"] == str(step_metric.id) and e["eventType"] != "START"]
    assert end["run"]["facets"]["parent"]["run"]["runId"] == str(run.trace_id)
    assert end["run"]["facets"]["parent"]["job"]["name"] == "workflow.Refresh"


def test_events_can_go_to_a_file_one_per_line(org, tmp_path):
    path = tmp_path / "openlineage.jsonl"
    export = live_export(openlineage_file=str(path))
    metric, _, _ = make_chain(org)

    run_metric_execution(metric, source="schedule")
    export.close()

    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["job"]["name"], e["eventType"]) for e in events][:2] == [
        ("metric.Daily revenue", "START"), ("metric.Daily revenue", "COMPLETE")]
    assert len(events) == 6 and all(not problems(e) for e in events)
