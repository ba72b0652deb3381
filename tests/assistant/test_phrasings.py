"""How people type questions → the intent and arguments the planner finds.

Grown by cause: each intent's ways of being asked, names that must be
found (or asked back), time phrases inside questions. The names are the
demo's (see conftest.named); planning writes nothing, so these are plain
database tests sharing one set of definitions."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lineage.assistant.planner import plan

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
    # run (a metric or a workflow; "re-run" means the failed run when there is one)
    ("run Daily revenue now", "run", REVENUE),
    ("run daily revenue", "run", REVENUE),
    ("please rerun open orders", "run", OPEN),
    ("re-run Open Orders now", "run", OPEN),
    ("recompute daily revnue", "run", REVENUE),
    ("refresh open orders", "run", OPEN),
    ("can you run daily revenue", "run", REVENUE),
    ("compute Daily refunds", "run", {"name": "Daily refunds", "kind": "metric"}),
    ("rerun page ops", "run", PAGE),
    ("run notify on-call now", "run", NOTIFY),
    ("retry page ops", "run", PAGE),
    # count_runs: the name, the outcome and the window
    ("How many times did Page ops fail this week?", "count_runs", {**PAGE, "outcome": "failed", "window": "this week"}),
    ("how often does revenue spike fire", "count_runs", {**SPIKE, "outcome": "fired"}),
    ("how many times did daily revenue run yesterday", "count_runs", {**REVENUE, "outcome": "ran", "window": "yesterday"}),
    ("how many workflows failed today", "count_runs", {"outcome": "failed", "trace_type": "workflow", "window": "today"}),
    ("number of failures of open orders since monday", "count_runs", {**OPEN, "outcome": "failed", "window": "since Monday"}),
    ("how many times didn't orders piling up fire today", "count_runs", {**PILING, "outcome": "quiet"}),
    # health
    ("is Page ops broken?", "health", PAGE),
    ("is daily revenue healthy", "health", REVENUE),
    ("how is notify on-call doing", "health", NOTIFY),
    ("is revenue spike working?", "health", SPIKE),
    ("status of open orders", "health", OPEN),
    # last_run
    ("when did page ops last succeed?", "last_run", {**PAGE, "outcome": "succeeded"}),
    ("when did revenue spike last fire", "last_run", {**SPIKE, "outcome": "fired"}),
    ("when was daily revenue last computed", "last_run", {**REVENUE, "outcome": "ran"}),
    ("when did page ops last fail", "last_run", {**PAGE, "outcome": "failed"}),
    # running_now
    ("what's running now?", "running_now", {}),
    ("what is running right now", "running_now", {}),
    ("anything still running?", "running_now", {}),
    ("is page ops running", "running_now", PAGE),
    ("anything stuck?", "running_now", {}),
    # alert_outcomes
    ("which alerts fired today", "alert_outcomes", {"window": "today", "outcome": "fired"}),
    ("what alerts went off this morning?", "alert_outcomes", {"window": "this morning", "outcome": "fired"}),
    ("which alerts didn't fire yesterday", "alert_outcomes", {"window": "yesterday", "outcome": "quiet"}),
    ("any alerts firing?", "alert_outcomes", {"outcome": "fired"}),
    # compare_runs
    ("what changed between yesterday's and today's Revenue spike evaluation?", "compare_runs", {**SPIKE, "window": "yesterday", "other_window": "today"}),
    ("compare the last two page ops runs", "compare_runs", PAGE),
    ("what's different about today's daily revenue run", "compare_runs", {**REVENUE, "window": "today"}),
    # preview
    ("what would fire now?", "preview", {}),
    ("what would daily revenue be now", "preview", REVENUE),
    ("dry run open orders", "preview", OPEN),
    ("preview revenue spike", "preview", SPIKE),
    ("what if I ran daily revenue", "preview", REVENUE),
    # a kind word settles which of two similar names is meant
    ("why did the spike alert fire", "explain_trace", SPIKE),
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

# Saturday 28 November 2026, 15:30 UTC (the tests' time zone).
NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)

# Time phrases inside questions: a span around then, never "in the last N".
TIMES = [
    ("why did page ops fail 8 days ago?", "8 days ago (on Nov 20)"),
    ("Why did Page ops fail 2 days ago", "2 days ago (on Nov 26)"),
    ("why did page ops fail 3 hours ago", "about 3 hours ago (12:00–13:00)"),
    ("why did page ops fail on saturday", "on Saturday (Nov 28)"),
    ("why did page ops fail last saturday", "last Saturday (Nov 21)"),
    ("why did page ops fail last tuesday", "last Tuesday (Nov 24)"),
    ("why did page ops fail on Tue", "on Tuesday (Nov 24)"),
    ("what failed last week", "last week (Nov 16–22)"),
    ("what failed in the last week", "in the last week"),
    ("what failed over the weekend", "over the weekend (Nov 28–29)"),
    ("what failed this weekend", "over the weekend (Nov 28–29)"),
    ("what failed last weekend", "last weekend (Nov 21–22)"),
    ("what failed the day before yesterday", "the day before yesterday (Nov 26)"),
    ("what failed 2 weeks ago", "2 weeks ago (Nov 9–15)"),
    ("what failed on nov 20", "on Nov 20"),
    ("what failed on 20 November", "on Nov 20"),
    ("what failed last month", "last month (October)"),
    ("what failed in october", "in October"),
    ("what failed last night", "last night"),
]


@pytest.mark.parametrize(("message", "intent", "args"), PHRASINGS)
def test_phrasing_is_understood(planning, message, intent, args):
    planning.now = NOW
    result = plan(message, planning)
    assert result.clarification == ""
    assert result.intent == intent
    assert {key: result.args.get(key) for key in args} == args


@pytest.mark.parametrize(("message", "window"), TIMES)
def test_a_time_phrase_in_a_question_is_its_span(planning, message, window):
    planning.now = NOW
    result = plan(message, planning)
    assert result.args.get("window") == window
    assert "unread_time" not in result.args


@pytest.mark.parametrize(
    ("message", "unread"),
    [
        ("what failed last quarter", "last quarter"),
        ("why did page ops fail at noon", "at noon"),
        ("what failed a fortnight ago", "fortnight ago"),
        ("why did page ops fail this morning and last year", "last year"),
    ],
)
def test_a_time_phrase_not_understood_is_kept_to_be_said(planning, message, unread):
    planning.now = NOW
    assert plan(message, planning).unread_time == unread


def test_a_name_made_of_time_words_is_a_name(planning):
    planning.now = NOW
    result = plan("why didn't the weekend digest run", planning)
    assert (result.target.name, result.window, result.unread_time) == ("Weekend digest", None, "")


def test_there_are_at_least_sixty_phrasings():
    assert len(PHRASINGS) >= 60


@pytest.mark.parametrize(
    ("message", "question"),
    [
        ("why did it run", "Which run do you mean?"),
        ("run it", "Which metric or workflow should I run?"),
        ("how many times did it fail", "Which run do you mean?"),
    ],
)
def test_a_question_naming_nothing_asks_which(planning, message, question):
    assert question in plan(message, planning).clarification


def test_an_alert_is_not_run(planning):
    assert plan("run revenue spike", planning).target is None
