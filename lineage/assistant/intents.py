"""What a question can ask for. The rule planner, the language model's tool
list and the answers all read this one list: adding an intent is a member
here, a rule in the planner and a tool in answers."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    HELP = "help"
    EXPLAIN = "explain_trace"
    WHY_NOT = "why_not_run"
    FAILURES = "list_failures"
    IMPACT = "impact"
    RUN_METRIC = "run_metric"
    # Not asked for: a question that could not be planned at all (empty, too
    # long, or from someone in no organization). No tool, no model call.
    INVALID = "invalid"


@dataclass(frozen=True)
class IntentSpec:
    """How a language model is told about an intent: what it does, which
    arguments it takes, and which of them it cannot do without."""

    description: str
    accepts: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


SPECS: dict[Intent, IntentSpec] = {
    Intent.EXPLAIN: IntentSpec(
        "Explain why a run happened (a trace id, or a workflow/alert/metric name).",
        ("name", "trace_id", "time"),
    ),
    Intent.WHY_NOT: IntentSpec(
        "Explain why a workflow, alert or metric did NOT run or fire in a time window.",
        ("name", "time"),
        ("name",),
    ),
    Intent.FAILURES: IntentSpec(
        "List failed runs in a time window, optionally of one trace type.", ("time", "trace_type")
    ),
    Intent.IMPACT: IntentSpec("List what a run triggered downstream.", ("name", "trace_id", "time")),
    Intent.RUN_METRIC: IntentSpec("Run a metric now, by name.", ("name",), ("name",)),
    Intent.HELP: IntentSpec("Say what can be asked."),
}

# Intents answered about the organization as a whole: they name no definition or trace.
WHOLE_ORGANIZATION = {Intent.HELP, Intent.FAILURES}
