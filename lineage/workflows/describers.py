from __future__ import annotations

from typing import Any

from lineage.observability.explain import Description, register_describer
from lineage.observability.formatting import format_time, join_phrases, quoted, sentence_case
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType


def planned_steps(workflow_trace: ExecutionTrace) -> list[dict[str, Any]]:
    """The steps a workflow run planned, as recorded when it began."""
    plan = (workflow_trace.inputs or {}).get("steps")
    if not isinstance(plan, list):
        return []  # a run recorded before plans were
    return [step for step in plan if isinstance(step, dict)]  # odd entries never break a page


def step_outcomes(workflow_trace: ExecutionTrace) -> dict[int, str]:
    """Each planned step's fate, by position: succeeded, failed, not run, or
    pending (the run is still going). Steps run in order and the first
    failure stops the run, so the workflow's outputs tell them all."""
    outputs = workflow_trace.outputs or {}
    failed_at = (outputs.get("failed_step") or {}).get("position")
    ran = outputs.get("steps_run")
    fates = {}
    for step in planned_steps(workflow_trace):
        position = step.get("position")
        if not isinstance(position, int):
            fates[position] = "not run"
            continue
        if failed_at is not None:
            fate = "succeeded" if position < failed_at else "failed" if position == failed_at else "not run"
        elif workflow_trace.status == TraceStatus.SUCCEEDED:
            fate = "succeeded" if ran is None or position <= ran else "not run"
        elif workflow_trace.status in (TraceStatus.RUNNING, TraceStatus.PENDING):
            fate = "pending"
        else:
            fate = "not run"
        fates[position] = fate
    return fates


_MARKS = {"succeeded": "✓", "failed": "✗", "not run": "—", "pending": "…"}


def steps_line(workflow_trace: ExecutionTrace) -> str:
    """“✓ step 1 “Dump”, ✗ step 2 “Upload”, — step 3 “Notify” not run”."""
    fates = step_outcomes(workflow_trace)
    parts = []
    for step in planned_steps(workflow_trace):
        fate = fates[step.get("position")]
        said = f"{_MARKS[fate]} step {step.get('position', '?')} {quoted(step.get('name', '?'))}"
        parts.append(f"{said} not run" if fate == "not run" else said)
    return ", ".join(parts)


def step_failure_cause(error: str) -> str:
    """What went wrong in a workflow's failed step, from the workflow's error
    (“StepFailed: step 1 “X” (webhook) failed: POST … refused” → “POST … refused”)."""
    return error.split("failed: ", 1)[-1]


def _failure(trace: ExecutionTrace) -> str:
    failed_step = (trace.outputs or {}).get("failed_step")
    if not failed_step:
        return f"failed: {trace.error_summary}"
    cause = step_failure_cause(trace.error_summary)
    said = (
        f"failed at step {failed_step['position']} {quoted(failed_step['name'])} "
        f"({failed_step['kind']}): {cause}"
    )
    return said + _around(trace, failed_step["position"])


def _around(trace: ExecutionTrace, failed_at: int) -> str:
    """The steps before a failure (they succeeded) and after it (not run)."""
    plan = planned_steps(trace)
    numbered = [s for s in plan if isinstance(s.get("position"), int)]
    before = [s for s in numbered if s["position"] < failed_at]
    after = [s for s in numbered if s["position"] > failed_at]
    parts = []
    if before:
        parts.append(f"{_steps(before)} had succeeded")
    if after:
        parts.append(f"{_steps(after)} did not run")
    return "; " + " and ".join(parts) if parts else ""


def _steps(steps: list[dict[str, Any]]) -> str:
    noun = "step" if len(steps) == 1 else "steps"
    return f"{noun} " + join_phrases(f"{s['position']} {quoted(s.get('name', '?'))}" for s in steps)


def _succeeded(trace: ExecutionTrace) -> str:
    plan = planned_steps(trace)
    if not plan:
        return f"Workflow {quoted(trace.name)} succeeded"
    return f"Workflow {quoted(trace.name)} succeeded: {steps_line(trace)}"


@register_describer(TraceType.WORKFLOW)
def describe_workflow(trace: ExecutionTrace, parent: ExecutionTrace | None = None) -> Description:
    return Description(
        title=f"Workflow {quoted(trace.name)}",
        ran="ran",
        outcome=f"workflow {quoted(trace.name)} ran",
        failure=_failure(trace) if trace.status == TraceStatus.FAILED else "",
        result=_succeeded(trace),
    )


@register_describer(TraceType.STEP)
def describe_step(trace: ExecutionTrace, parent: ExecutionTrace | None = None) -> Description:
    """“Step 2 “Upload” of the 02:00 “Nightly export” run”, with the run's
    other steps when the explanation has the run: its parent's sentence
    says why the run happened, so a step is never explained by itself."""
    inputs = trace.inputs or {}
    position, workflow = inputs.get("position", "?"), inputs.get("workflow", "?")
    in_run = parent is not None and parent.trace_type == TraceType.WORKFLOW
    if in_run:
        where = f"step {position} {quoted(trace.name)} of the {format_time(parent.started_at)} {quoted(workflow)} run"
    else:
        where = f"step {position} {quoted(trace.name)} of workflow {quoted(workflow)}"
    others = f" ({steps_line(parent)})" if in_run and planned_steps(parent) else ""
    return Description(
        title=sentence_case(where),
        ran="ran",
        outcome=f"{where} ran",
        failure=f"failed: {trace.error_summary.removeprefix('StepError: ')}{others}",
        result=f"{sentence_case(where)} succeeded{others}",
        part_of_parent=in_run,
    )
