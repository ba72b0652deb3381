"""What a question can ask for. The rule planner, the language model's tool
list, the answers and the help answer all read this one list: adding an
intent is a member here, a rule in the planner and a tool in answers."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    HELP = "help"
    EXPLAIN = "explain_trace"
    WHY_NOT = "why_not_run"
    FAILURES = "list_failures"
    IMPACT = "impact"
    COUNT = "count_runs"
    HEALTH = "health"
    LAST = "last_run"
    RUNNING = "running_now"
    ALERTS = "alert_outcomes"
    COMPARE = "compare_runs"
    PREVIEW = "preview"
    RUN = "run"
    RERUN = "rerun"
    # Not asked for: a question that could not be planned at all (empty, too
    # long, or from someone in no organization). No tool, no model call.
    INVALID = "invalid"


@dataclass(frozen=True)
class IntentSpec:
    """How an intent is told about: to a language model (what it does, which
    arguments it takes, which it cannot do without) and to people (an
    example question, in the help answer)."""

    description: str
    accepts: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    example: str = ""
    told: str = ""  # what the help answer says it does


SPECS: dict[Intent, IntentSpec] = {
    Intent.EXPLAIN: IntentSpec(
        "Explain why a run happened (a trace id, or a workflow/alert/metric name).",
        ("name", "trace_id", "time"),
        example="Why did Page ops fail on Saturday?",
        told="why it ran, and why it failed",
    ),
    Intent.WHY_NOT: IntentSpec(
        "Explain why a workflow, alert or metric did NOT run or fire in a time window.",
        ("name", "time"),
        ("name",),
        example="Why didn't Notify on-call run this morning?",
        told="why it did not run or fire, from what happened then",
    ),
    Intent.FAILURES: IntentSpec(
        "List failed runs in a time window, optionally of one trace type.",
        ("time", "trace_type"),
        example="What failed today?",
        told="what failed",
    ),
    Intent.IMPACT: IntentSpec(
        "List what a run triggered downstream.",
        ("name", "trace_id", "time"),
        example="What did the 10:05 Daily revenue run trigger?",
        told="what a run set off",
    ),
    Intent.COUNT: IntentSpec(
        "Count the runs (or failures, or firings) of a workflow, alert or metric — or of "
        "everything — in a time window, with the pattern of their failures.",
        ("name", "time", "outcome", "trace_type"),
        example="How many times did Page ops fail this week?",
        told="how often, with the pattern of its failures",
    ),
    Intent.HEALTH: IntentSpec(
        "Say whether a workflow, alert or metric is healthy or broken, from its recent runs.",
        ("name", "trace_id"),
        ("name",),
        example="Is Page ops broken?",
        told="whether it is healthy or broken",
    ),
    Intent.LAST: IntentSpec(
        "Say when a workflow, alert or metric last succeeded, failed, fired or ran.",
        ("name", "outcome"),
        ("name",),
        example="When did Page ops last succeed?",
        told="when it last succeeded, failed, fired or ran",
    ),
    Intent.RUNNING: IntentSpec(
        "List what is running now (optionally one workflow, alert or metric).",
        ("name",),
        example="What's running now?",
        told="what is running now",
    ),
    Intent.ALERTS: IntentSpec(
        "List which alerts fired (or did not fire) in a time window.",
        ("time", "outcome"),
        example="Which alerts fired today?",
        told="which alerts fired, or did not",
    ),
    Intent.COMPARE: IntentSpec(
        "Compare two runs of one workflow, alert or metric (the last two, or one in each of "
        "two time windows): what changed, and what explains the different outcome.",
        ("name", "trace_id", "time", "other_time"),
        example="What changed between yesterday's and today's Revenue spike evaluation?",
        told="what changed between two runs",
    ),
    Intent.PREVIEW: IntentSpec(
        "Dry run: compute a metric now without recording anything and say which of its "
        "alerts would fire and which workflows they would start.",
        ("name",),
        example="What would fire now?",
        told="what a run would do now, recording nothing",
    ),
    Intent.RUN: IntentSpec(
        "Run a metric or a workflow now, by name (the person confirms first).",
        ("name", "trace_id"),
        example="Run Daily revenue now",
        told="run a metric or a workflow (editors; you confirm first)",
    ),
    Intent.RERUN: IntentSpec(
        "Re-run a failed run of a metric or workflow, linked to the failure (the person "
        "confirms first).",
        ("name", "trace_id"),
        example="Re-run the failed Page ops run",
        told="re-run a failed run, linked to it (editors; you confirm first)",
    ),
    Intent.HELP: IntentSpec("Say what can be asked.", example="What can I ask?",
        told="this list"),
}

# Intents answered about the organization as a whole: they name no
# definition or trace.
WHOLE_ORGANIZATION = {Intent.HELP, Intent.FAILURES, Intent.ALERTS}
# Intents whose name is optional: without one they are about everything.
NAME_OPTIONAL = {Intent.COUNT, Intent.RUNNING, Intent.PREVIEW}
