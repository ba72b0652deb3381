"""Two runs of one definition side by side, led by what explains their
different outcome ("its threshold changed from 20,000 to 10,000, first
used at Nov 28 09:00").

Each run recorded its definition (see changes.py), so the comparison is of
the definition as it was at each run, not as it is now. The trace page's
"Compare with previous run" and the chat ("what changed between
yesterday's and today's Revenue spike evaluation?") both use it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lineage.assistant import changes
from lineage.assistant.planner import AskContext, Plan
from lineage.assistant.replies import Answer, runs_of, visible_traces
from lineage.observability.explain import describe, status_sentence
from lineage.observability.formatting import (
    format_duration,
    format_json,
    format_number,
    format_time,
    join_phrases,
    quoted,
    sentence_case,
)
from lineage.observability.models import ExecutionTrace, TraceType
from lineage.workflows.describers import planned_steps, step_outcomes

# Inputs told in rows of their own (the definition's settings are, too).
_SKIPPED_INPUTS = {"started_by", "steps", "scheduled_for"}


@dataclass
class Row:
    label: str
    earlier: str
    later: str
    # When and how long always differ: not a change worth pointing at.
    compared: bool = True

    @property
    def changed(self) -> bool:
        return self.compared and self.earlier != self.later


@dataclass
class Comparison:
    earlier: ExecutionTrace
    later: ExecutionTrace
    lead: str
    outcome: list[Row] = field(default_factory=list)
    definition: list[Row] = field(default_factory=list)
    inputs: list[Row] = field(default_factory=list)
    steps: list[Row] = field(default_factory=list)


def compare_runs(first: ExecutionTrace, second: ExecutionTrace) -> Comparison:
    """`first` and `second` side by side, the earlier one first."""
    earlier, later = sorted((first, second), key=lambda t: (t.started_at, str(t.id)))
    changed = changes.changes(changes.recorded(earlier), changes.recorded(later))
    return Comparison(
        earlier,
        later,
        _lead(earlier, later, changed),
        outcome=_outcome_rows(earlier, later),
        definition=_definition_rows(earlier, later),
        inputs=_input_rows(earlier, later),
        steps=_step_rows(earlier, later) if later.trace_type == TraceType.WORKFLOW else [],
    )


# --- The lead: what explains the difference --------------------------------------------


def _lead(earlier: ExecutionTrace, later: ExecutionTrace, changed: list[changes.Change]) -> str:
    """The outcomes, then what explains them: a setting that changed (and
    the first run that used it), a value that moved, an error."""
    if earlier.subject != later.subject:
        return "These are runs of different definitions; compare two runs of one to see what changed."
    before, after = _result(earlier), _result(later)
    title = describe(later).title
    then, now = format_time(earlier.started_at), format_time(later.started_at)
    if before == after:
        said = f"{title} {before} both times (at {then} and at {now})."
    else:
        said = f"{title} {before} at {then} and {after} at {now}."
    reasons = [_first_used(change, earlier, later) for change in changed] + _other_reasons(earlier, later)
    if reasons:
        return f"{said} {sentence_case(join_phrases(reasons))}."
    if changes.recorded(later):
        return f"{said} Its definition was the same both times."
    return said


def _result(trace: ExecutionTrace) -> str:
    """A run's outcome in a few words, comparable between two runs."""
    outputs = trace.outputs or {}
    if trace.status != "succeeded":
        if trace.trace_type == TraceType.WORKFLOW and outputs.get("failed_step"):
            return f"failed at step {outputs['failed_step'].get('position')}"
        return trace.status
    if trace.trace_type == TraceType.ALERT and "fired" in outputs:
        return "fired" if outputs["fired"] else "did not fire"
    if trace.trace_type == TraceType.METRIC and "value" in outputs:
        return f"computed {format_number(outputs['value'])}"
    return "succeeded"


def _first_used(change: changes.Change, earlier: ExecutionTrace, later: ExecutionTrace) -> str:
    """The change, and the first run that used the new setting (one query)."""
    first = ExecutionTrace.objects.filter(org_id=later.org_id).first_run_recording(
        later.subject, change.key, change.after, earlier.started_at, later.started_at
    )
    when = f", first used at {format_time(first.started_at)}" if first and first.id != later.id else ""
    return f"{change.between}{when}"


def _other_reasons(earlier: ExecutionTrace, later: ExecutionTrace) -> list[str]:
    """What went in or what went wrong, when it differs."""
    reasons = []
    if later.trace_type == TraceType.ALERT:
        value_then, value_now = (earlier.inputs or {}).get("value"), (later.inputs or {}).get("value")
        if value_then != value_now:
            reasons.append(f"the value went from {format_number(value_then)} to {format_number(value_now)}")
    if earlier.error_summary != later.error_summary:
        failed = later if later.error else earlier
        which = "later" if failed is later else "earlier"
        reasons.append(f"the {which} run failed ({status_sentence(failed).rstrip('.')})")
    return reasons


# --- The rows -------------------------------------------------------------------------


def _outcome_rows(earlier: ExecutionTrace, later: ExecutionTrace) -> list[Row]:
    rows = [
        Row("Started", format_time(earlier.started_at), format_time(later.started_at), compared=False),
        Row("Source", earlier.get_source_display(), later.get_source_display()),
        Row("Status", earlier.status, later.status),
        Row("Result", _result(earlier), _result(later)),
        Row("Duration", format_duration(earlier.duration), format_duration(later.duration), compared=False),
    ]
    if later.trace_type == TraceType.ALERT:
        rows.append(Row("Margin", _margin(earlier), _margin(later)))
    if earlier.error or later.error:
        rows.append(Row("Error", earlier.error_summary or "—", later.error_summary or "—"))
    return rows


def _margin(trace: ExecutionTrace) -> str:
    margin = (trace.outputs or {}).get("margin")
    return "—" if margin is None else format_number(margin)


def _definition_rows(earlier: ExecutionTrace, later: ExecutionTrace) -> list[Row]:
    before, after = changes.recorded(earlier), changes.recorded(later)
    keys = [k for k in changes.SNAPSHOT_KEYS.get(later.trace_type, ()) if k in before or k in after]
    return [Row(_label(key), _shown(before.get(key, "not recorded")), _shown(after.get(key, "not recorded"))) for key in keys]


def _input_rows(earlier: ExecutionTrace, later: ExecutionTrace) -> list[Row]:
    skipped = set(changes.SNAPSHOT_KEYS.get(later.trace_type, ())) | _SKIPPED_INPUTS
    before, after = earlier.inputs or {}, later.inputs or {}
    keys = [k for k in dict.fromkeys([*before, *after]) if k not in skipped]
    return [Row(_label(key), _shown(before.get(key, "—")), _shown(after.get(key, "—"))) for key in keys]


def _step_rows(earlier: ExecutionTrace, later: ExecutionTrace) -> list[Row]:
    """Each planned step's fate in each run (from the runs' own records)."""
    fates = step_outcomes(earlier), step_outcomes(later)
    names = {
        s["position"]: s.get("name", "?")
        for trace in (earlier, later)
        for s in planned_steps(trace)
        if isinstance(s.get("position"), int)
    }
    return [
        Row(f"Step {position} {quoted(name)}", fates[0].get(position, "not planned"), fates[1].get(position, "not planned"))
        for position, name in sorted(names.items())
    ]


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "none"
    if isinstance(value, dict | list):
        return format_json(value)
    return "none" if value is None else str(value)


# --- From chat ---------------------------------------------------------------------------


def compare_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    pair = _runs_to_compare(plan, context)
    if pair is None:
        what = plan.target.called if plan.target else "that run"
        return answer.say(f"I need two runs of {what} to compare, and found fewer.")
    comparison = compare_runs(*pair)
    answer.say(comparison.lead, comparison.later)
    for row in [*comparison.outcome, *comparison.inputs, *comparison.steps]:
        if row.changed:
            answer.say(f"{row.label}: {row.earlier} → {row.later}.")
    answer.say("The earlier run.", comparison.earlier)
    return answer


def _runs_to_compare(plan: Plan, context: AskContext) -> tuple[ExecutionTrace, ExecutionTrace] | None:
    """A trace and its previous run; a run in each of two windows; the
    latest run in a window and the one before it; or the latest two runs."""
    if plan.trace is not None:
        previous = visible_traces(context).previous_run(plan.trace)
        return (previous, plan.trace) if previous else None
    if plan.target is None:
        return None
    if plan.window and plan.other_window:
        first = runs_of(context, plan.target, plan.window).first()
        second = runs_of(context, plan.target, plan.other_window).first()
        return (first, second) if first and second and first.id != second.id else None
    latest = runs_of(context, plan.target, plan.window).first()
    if latest is None:
        return None
    previous = visible_traces(context).previous_run(latest)
    return (previous, latest) if previous else None
