"""The trace page: header, explanation, lineage panel, steps, JSON, error."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from lineage.workflows.models import Step
from tests.factories import make_metric, make_trace, scheduler_pass, traced_db
from tests.web.conftest import count_queries

pytestmark = traced_db


def detail(client, trace):
    response = client.get(reverse("web:trace-detail", args=[trace.id]))
    assert response.status_code == 200
    return response.text


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section class="card[^"]*" id="{section_id}"[^>]*>(.*?)</section>', page, re.S)
    assert match, f"no #{section_id} section"
    return match.group(1)


def test_header_shows_type_status_source_times_and_duration(member_client, org):
    started = timezone.now() - timedelta(minutes=3)
    trace = make_trace(org, "Daily revenue", source="manual", started_at=started, duration=timedelta(seconds=2.5))
    page = detail(member_client, trace)
    for text in ("Metric", "Succeeded", "Manual", "2.5 s", str(trace.id)):
        assert text in page
    assert "<dt>Started</dt>" in page and "<dt>Finished</dt>" in page


def test_explanation_names_each_trace_of_the_chain_with_a_link(member_client, failing_chain):
    workflow = failing_chain.traces["workflow"]
    explanation = section(detail(member_client, workflow), "explanation")

    assert "Why did this run?" in explanation
    # Root cause first, each earlier trace a link to its page.
    metric_link = reverse("web:trace-detail", args=[failing_chain.traces["metric"].id])
    alert_link = reverse("web:trace-detail", args=[failing_chain.traces["alert"].id])
    assert explanation.index(metric_link) < explanation.index(alert_link)
    assert f'<a href="{metric_link}">Open orders</a>' in explanation
    assert f'<a href="{alert_link}">Orders piling up</a>' in explanation
    assert "Metric “Open orders” computed 7" in explanation
    assert "ran because alert “Orders piling up” fired" in explanation
    assert "failed at step 1 “Page the ops channel”" in explanation
    assert "(this trace)" in explanation


def test_lineage_panel_loads_the_svg_with_htmx_and_links_to_it(member_client, failing_chain):
    workflow = failing_chain.traces["workflow"]
    lineage = section(detail(member_client, workflow), "lineage")
    svg_url = reverse("web:trace-lineage-svg", args=[workflow.id])

    assert f'hx-get="{svg_url}?depth=5" hx-trigger="load, lineage-changed from:body"' in lineage
    assert f'href="{svg_url}"' in lineage  # works without JavaScript
    assert '<select name="depth">' in lineage
    assert '<option value="10" >10</option>' in lineage
    for legend in ("Metric", "Alert", "Workflow", "Step", "Succeeded", "Failed", "Running"):
        assert legend in lineage


def test_workflow_page_places_its_steps_on_the_runs_time_axis(member_client, org):
    start = timezone.now()
    workflow = make_trace(org, "Notify on-call", trace_type="workflow", started_at=start)
    make_trace(org, "Second", trace_type="step", dependencies=[workflow.id], inputs={"position": 2, "kind": "email"},
               started_at=start + timedelta(seconds=1), duration=timedelta(seconds=1))
    make_trace(org, "First", trace_type="step", dependencies=[workflow.id], inputs={"position": 1, "kind": "log"},
               started_at=start, duration=timedelta(seconds=4))
    make_trace(org, "Someone else's step", trace_type="step", started_at=start)

    steps = section(detail(member_client, workflow), "steps")

    assert steps.index("First") < steps.index("Second")
    assert "Someone else" not in steps
    assert 'style="left: 0.00%; width: 100.00%"' in steps  # First: from the start, 4 s of 4
    assert 'style="left: 25.00%; width: 25.00%"' in steps  # Second: 1 s in, for 1 s
    assert "4.0 s in all" in steps
    assert "+1.0 s · 1.0 s" in steps


def test_failed_trace_shows_error_and_traceback(member_client, failing_chain):
    page = detail(member_client, failing_chain.traces["workflow"])
    error = section(page, "error")
    assert "StepFailed" in error
    assert "<details>" in error
    assert "Traceback (most recent call last)" in error
    steps = section(page, "steps")
    assert "Page the ops channel" in steps
    assert "status-failed" in steps


def test_steps_a_failure_kept_from_running_are_listed_as_not_run(member_client, failing_chain):
    workflow = failing_chain.traces["workflow"]
    Step.objects.filter(workflow__name="Page ops").update(name="Renamed since")  # the run's plan counts

    steps = section(detail(member_client, workflow), "steps")

    rows = steps.split('class="step-row')[1:]
    assert "Page the ops channel" in rows[0] and "status-failed" in rows[0]
    assert "Log the page" in rows[1] and "not run" in rows[1] and "an earlier step failed" in rows[1]
    assert "Renamed since" not in steps


def test_a_running_workflow_does_not_call_its_remaining_steps_not_run(member_client, org):
    workflow = make_trace(
        org, "Nightly", trace_type="workflow", status="running",
        inputs={"steps": [{"position": 1, "name": "Export", "kind": "log"},
                          {"position": 2, "name": "Upload", "kind": "webhook"}]},
    )
    make_trace(org, "Export", trace_type="step", status="running", dependencies=[workflow.id],
               inputs={"position": 1, "kind": "log"})

    steps = section(detail(member_client, workflow), "steps")

    assert "Export" in steps and "status-running" in steps
    assert "Upload" not in steps  # still to come, not skipped


def test_succeeded_trace_has_no_error_panel(member_client, org):
    assert 'id="error"' not in detail(member_client, make_trace(org))


def test_inputs_and_outputs_are_pretty_escaped_json(member_client, org):
    trace = make_trace(org, inputs={"sql": "SELECT '<b>'"}, outputs={"value": 12840, "note": "</pre><script>x</script>"})
    page = detail(member_client, trace)
    assert '{\n  &quot;sql&quot;: &quot;SELECT &#x27;&lt;b&gt;&#x27;&quot;\n}' in page
    assert "&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page
    assert "&quot;value&quot;: 12840" in page


def test_names_in_header_and_explanation_are_escaped(member_client, org):
    parent = make_trace(org, '"] ; evil [label="', source="manual")
    child = make_trace(org, "<script>alert(1)</script>", trace_type="alert", dependencies=[parent.id])
    page = detail(member_client, child)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;] ; evil [label=&quot;" in page


def test_running_trace_has_no_finish_time_yet(member_client, org):
    page = detail(member_client, make_trace(org, "Slow", status="running"))
    assert "Running" in page
    assert "has been running since" in page


def test_missing_ancestor_is_noted(member_client, org):
    gone = make_trace(org, "Deleted metric")
    child = make_trace(org, "Alert", trace_type="alert", dependencies=[gone.id])
    gone.delete()
    page = detail(member_client, child)
    assert "no longer exist" in page


def test_query_count_does_not_grow_with_steps(member_client, org, django_assert_num_queries):
    workflow = make_trace(org, "Wide", trace_type="workflow")
    url = reverse("web:trace-detail", args=[workflow.id])

    def add_steps(numbers: range) -> None:
        for n in numbers:
            make_trace(org, f"step {n}", trace_type="step", dependencies=[workflow.id], inputs={"position": n})

    add_steps(range(1, 4))
    few = count_queries(member_client, url)
    add_steps(range(4, 40))
    with django_assert_num_queries(few):
        response = member_client.get(url)
    assert response.text.count('class="step-row"') == 39


def test_an_odd_recorded_plan_shows_what_it_can_and_never_breaks_the_page(member_client, org):
    workflow = make_trace(
        org, "Imported", trace_type="workflow", status="failed", error="StepFailed: boom",
        inputs={"steps": ["junk", {"name": "No position"}, {"position": 2, "name": "Upload", "kind": "webhook"}]},
    )
    make_trace(org, "Export", trace_type="step", status="failed", dependencies=[workflow.id],
               inputs={"position": 1, "kind": "log"})

    steps = section(detail(member_client, workflow), "steps")

    assert "Export" in steps and "Upload" in steps and "No position" in steps
    assert "junk" not in steps


def test_a_running_trace_polls_its_live_part_and_the_finished_answer_redraws_the_graph(member_client, org):
    from lineage.observability.store import update_trace

    running = make_trace(org, "Nightly backfill", status="running")
    url = reverse("web:trace-detail", args=[running.id])
    page = member_client.get(url).text
    assert f'<div id="trace-live" hx-get="{url}" hx-trigger="every 2s"' in page
    assert "so far" in page

    still = member_client.get(url, HTTP_HX_REQUEST="true")
    assert still.text.lstrip().startswith('<div id="trace-live" hx-get=')
    assert "HX-Trigger" not in still
    update_trace(running.id, status="succeeded", completed_at=timezone.now())
    done = member_client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' not in done.text and "succeeded" in done.text
    assert json.loads(done["HX-Trigger"]) == {"lineage-changed": {}}
    assert 'id="ask-about-trace"' not in done.text  # the question form is never redrawn


def test_breadcrumbs_follow_the_chain_and_runs_of_the_same_definition_are_linked(member_client, failing_chain, org):
    workflow = failing_chain.traces["workflow"]
    earlier = make_trace(org, "Page ops", trace_type="workflow", subject=workflow.subject,
                         started_at=workflow.started_at - timedelta(minutes=5))
    page = detail(member_client, workflow)

    crumbs = re.search(r'<nav class="crumbs".*?</nav>', page, re.S).group(0)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<(?:a|span)[^>]*>[^<›]+</(?:a|span)>", crumbs)] == [
        "Traces", "Open orders", "Orders piling up", "Page ops"]
    assert f'rel="prev" href="{reverse("web:trace-detail", args=[earlier.id])}"' in page
    assert 'rel="next"' not in page
    assert f'data-copy="{workflow.id}"' in page
    assert f'?subject={workflow.subject.replace(":", "%3A")}">all runs</a>' in page


def test_a_failed_runs_header_has_its_cause_and_how_long_it_has_been_failing(member_client, failing_chain):
    workflow = failing_chain.traces["workflow"]
    header = detail(member_client, workflow)
    assert '<p class="root-cause"' in header
    assert "HTTP 500" in re.search(r'<p class="root-cause".*?</p>', header, re.S).group(0)
    assert "Failing since" in header and "1 run in a row" in header and "no success yet" in header


def test_a_late_scheduled_run_shows_the_ticks_it_stood_for(member_client, org):
    metric = make_metric(org, name="Backlog", sql="SELECT 1")  # every 5 minutes
    tick = datetime(2026, 11, 26, 9, tzinfo=UTC)
    [late] = scheduler_pass(org, tick, late=timedelta(hours=2, minutes=25))
    [on_time] = scheduler_pass(org, tick + timedelta(hours=3))

    page = detail(member_client, late)

    assert (
        "Missed ticks: this run was late, so the 29 ticks after its own (Nov 26 09:05 – "
        "Nov 26 11:25) did not run separately"
    ) in page
    assert "Missed ticks" not in detail(member_client, on_time)
    assert metric.subject == late.subject
