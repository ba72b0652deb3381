"""How people type questions → the intent and arguments the planner finds."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lineage.assistant.planner import plan
from lineage.metrics.models import Metric
from tests.factories import traced_db

pytestmark = traced_db

NOTIFY = {"name": "Notify on-call", "kind": "workflow"}
PAGE = {"name": "Page ops", "kind": "workflow"}
REVENUE = {"name": "Daily revenue", "kind": "metric"}
OPEN = {"name": "Open orders", "kind": "metric"}
SPIKE = {"name": "Revenue spike", "kind": "alert"}
PILING = {"name": "Orders piling up", "kind": "alert"}

PHRASINGS = [
    # explain_trace
    ("Why did Notify on-call run this morning?", "explain_trace", {**NOTIFY, "window": "this morning"}),
    ("why did notify on-call run this morning", "explain_trace", {**NOTIFY, "window": "this morning"}),
    ("why did notfy on call run", "explain_trace", NOTIFY),
    ("WHY DID PAGE OPS RUN", "explain_trace", PAGE),
    ("explain the last Page ops run", "explain_trace", {**PAGE, "latest": True}),
    ("explain the latest page ops run please", "explain_trace", {**PAGE, "latest": True}),
    ("why did page-ops fail", "explain_trace", PAGE),
    ("why did Page ops fail yesterday?", "explain_trace", {**PAGE, "window": "yesterday"}),
    ("what caused the last revenue spike", "explain_trace", SPIKE),
    ("why did revenue spike fire today", "explain_trace", {**SPIKE, "window": "today"}),
    ("why did revenu spike fire", "explain_trace", SPIKE),
    ("how come orders piling up fired", "explain_trace", PILING),
    ("why was daily revenue computed at 10:05", "explain_trace", {**REVENUE, "window": "at 10:05"}),
    ("why did open orders run in the last hour", "explain_trace", {**OPEN, "window": "in the last hour"}),
    ("reason for the last notify on-call run", "explain_trace", NOTIFY),
    ("explain Orders Piling Up", "explain_trace", PILING),
    ("why did notify on-call run between 9 and 11", "explain_trace", {**NOTIFY, "window": "between 09:00 and 11:00"}),
    ("why did Page ops run since monday", "explain_trace", {**PAGE, "window": "since Monday"}),
    # why_not_run
    ("why didn't Notify on-call run today?", "why_not_run", {**NOTIFY, "window": "today"}),
    ("why didnt notify on-call run today", "why_not_run", {**NOTIFY, "window": "today"}),
    ("Why did Notify on-call not run this morning", "why_not_run", {**NOTIFY, "window": "this morning"}),
    ("why hasn't Revenue spike fired since Monday?", "why_not_run", {**SPIKE, "window": "since Monday"}),
    ("why hasnt revenue spike fired since monday", "why_not_run", {**SPIKE, "window": "since Monday"}),
    ("why didn't notify on-call run in the last hour", "why_not_run", {**NOTIFY, "window": "in the last hour", "latest": None}),
    ("how come page ops didn't run yesterday", "why_not_run", {**PAGE, "window": "yesterday"}),
    ("why no notify on-call run today", "why_not_run", {**NOTIFY, "window": "today"}),
    ("why did orders piling up not fire", "why_not_run", PILING),
    ("why wasn't daily revenue computed this morning", "why_not_run", {**REVENUE, "window": "this morning"}),
    ("Why doesn't Page Ops run?", "why_not_run", PAGE),
    ("why didnt notfy oncall run in the last 3 hours", "why_not_run", {**NOTIFY, "window": "in the last 3 hours"}),
    ("why has open orders not run since 9am", "why_not_run", {**OPEN, "window": "since 09:00"}),
    ("why didn't revenue spike fire between 9:30 and 11", "why_not_run", {**SPIKE, "window": "between 09:30 and 11:00"}),
    # list_failures
    ("what failed today?", "list_failures", {"window": "today"}),
    ("What failed today", "list_failures", {"window": "today"}),
    ("any failed workflows in the last hour?", "list_failures", {"window": "in the last hour", "trace_type": "workflow"}),
    ("any failures yesterday", "list_failures", {"window": "yesterday"}),
    ("show me failed metrics this week", "list_failures", {"window": "this week", "trace_type": "metric"}),
    ("list errors since monday", "list_failures", {"window": "since Monday"}),
    ("what failed on 2026-11-20", "list_failures", {"window": "on Nov 20"}),
    ("why didn't notify on-call run since 2026-11-20", "why_not_run", {**NOTIFY, "window": "since Nov 20"}),
    ("why did page ops run between 2026-11-20 and 2026-11-21", "explain_trace", {**PAGE, "window": "between Nov 20 and Nov 21"}),
    ("what went wrong this morning", "list_failures", {"window": "this morning"}),
    ("failures", "list_failures", {}),
    ("did anything fail in the last 24 hours", "list_failures", {"window": "in the last 24 hours"}),
    ("which steps failed today", "list_failures", {"window": "today", "trace_type": "step"}),
    ("anything broken?", "list_failures", {}),
    # impact
    ("what did the 10:05 Daily revenue run trigger?", "impact", {**REVENUE, "window": "at 10:05"}),
    ("what did the last daily revenue run trigger", "impact", {**REVENUE, "latest": True}),
    ("what did open orders trigger today", "impact", {**OPEN, "window": "today"}),
    ("impact of the last open orders run", "impact", OPEN),
    ("what happened because of revenue spike", "impact", SPIKE),
    ("downstream of daily revenue", "impact", REVENUE),
    ("what did daily revnue cause", "impact", REVENUE),
    ("effects of the last orders piling up evaluation", "impact", PILING),
    # run_metric
    ("run Daily revenue now", "run_metric", REVENUE),
    ("run daily revenue", "run_metric", REVENUE),
    ("please rerun open orders", "run_metric", OPEN),
    ("re-run Open Orders now", "run_metric", OPEN),
    ("recompute daily revnue", "run_metric", REVENUE),
    ("refresh open orders", "run_metric", OPEN),
    ("can you run daily revenue", "run_metric", REVENUE),
    ("compute Daily refunds", "run_metric", {"name": "Daily refunds", "kind": "metric"}),
    # a kind word settles which of two similar names is meant
    ("why did the revenue alert fire", "explain_trace", SPIKE),
    ("why did the revenue metric run", "explain_trace", REVENUE),
    ("why didn't the orders alert fire today", "why_not_run", {**PILING, "window": "today"}),
    # a bare name: its latest run, explained
    ("page ops", "explain_trace", {**PAGE, "latest": True}),
    ("Notify On-Call?", "explain_trace", {**NOTIFY, "latest": True}),
    ("open ordrs", "explain_trace", OPEN),
    # help
    ("help", "help", {}),
    ("Help?", "help", {}),
    ("what can I ask", "help", {}),
    ("what can you do?", "help", {}),
    ("examples", "help", {}),
    ("hello", "help", {}),
]

NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("message", "intent", "args"), PHRASINGS)
def test_phrasing_is_understood(ctx, message, intent, args):
    ctx.now = NOW
    result = plan(message, ctx)
    assert result.clarification == ""
    assert result.intent == intent
    assert {key: result.args.get(key) for key in args} == args


def test_there_are_at_least_sixty_phrasings():
    assert len(PHRASINGS) >= 60


@pytest.mark.parametrize(
    ("message", "question"),
    [
        ("why did daily run", "Did you mean Daily refunds or Daily revenue?"),
        ("run daily now", "Did you mean Daily refunds or Daily revenue?"),
        ("why did orders run", "Did you mean"),
        ("why did xyzzy frobnicate run", "I don't know that name here. Did you mean"),
        ("why did it run", "Which run do you mean?"),
        ("run it", "Which metric should I run?"),
    ],
)
def test_unclear_names_get_a_question_back(ctx, message, question):
    assert question in plan(message, ctx).clarification


def test_run_metric_only_matches_metrics(ctx):
    result = plan("run page ops", ctx)
    assert result.target is None or result.target.kind == "metric"


def test_a_number_in_a_name_is_never_guessed(ctx, demo):
    Metric.objects.create(organization=demo, name="Backlog 510", sql="SELECT 1")
    assert plan("run backlog 17 now", ctx).target is None
    assert plan("run backlog 510 now", ctx).target.name == "Backlog 510"
    assert plan("run backlgo 510 now", ctx).target.name == "Backlog 510"  # a typo is fine


def test_a_long_list_of_candidates_is_cut_short(ctx, demo):
    for name in ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"):
        Metric.objects.create(organization=demo, name=f"Queue {name}", sql="SELECT 1")
    assert plan("why did queue run", ctx).clarification == (
        "Did you mean Queue alpha, Queue beta, Queue delta, Queue epsilon or one of 3 others? "
        "Name it in full."
    )
