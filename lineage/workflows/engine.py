"""Running a workflow: one `workflow` trace, one `step` trace per step."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lineage.observability.models import TraceType
from lineage.observability.tracer import with_trace
from lineage.workflows.models import Step, Workflow
from lineage.workflows.steps import STEP_TYPES, StepError


class StepFailed(Exception):
    """Raised inside the workflow's trace so its error names the step."""

    def __init__(self, step: Step, cause: BaseException) -> None:
        self.step = step
        self.cause = cause
        reason = f"{type(cause).__name__}: {cause}" if not isinstance(cause, StepError) else cause
        super().__init__(f"step {step.position} “{step.name}” ({step.kind}) failed: {reason}")


@dataclass
class WorkflowRun:
    trace_id: uuid.UUID
    succeeded: bool
    error: str = ""


def run_workflow(
    workflow: Workflow,
    *,
    context: dict[str, Any] | None = None,
    source: str | None = None,
    parents: Iterable[uuid.UUID] | None = None,
) -> WorkflowRun:
    """Run the steps in order; the first failing step fails the workflow and
    the later steps do not run. Returns the outcome; never raises for a step."""
    context = {"workflow": workflow.name, **(context or {})}
    steps = list(workflow.steps.all())
    trace = with_trace(
        TraceType.WORKFLOW,
        name=workflow.name,
        subject=workflow.subject,
        inputs={"context": context, **workflow.snapshot(steps)},
        source=source,
        parents=parents,
        org=workflow.organization_id,
    )
    try:
        with trace as handle:
            for step in steps:
                try:
                    _run_step(step, workflow, context)
                except StepFailed:
                    handle.outputs["failed_step"] = {
                        "position": step.position,
                        "name": step.name,
                        "kind": step.kind,
                    }
                    handle.outputs["steps_run"] = step.position
                    raise
            handle.outputs["steps_run"] = len(steps)
    except StepFailed as failure:
        return WorkflowRun(handle.id, succeeded=False, error=str(failure))
    return WorkflowRun(handle.id, succeeded=True)


def _run_step(step: Step, workflow: Workflow, context: dict[str, Any]) -> None:
    inputs = {
        "workflow": workflow.name,
        "position": step.position,
        "kind": step.kind,
        "config": step.config,
    }
    try:
        with with_trace(
            TraceType.STEP, name=step.name, subject=step.subject, inputs=inputs
        ) as handle:
            step_type = STEP_TYPES.get(step.kind)
            if step_type is None:
                raise StepError(f"unknown step kind “{step.kind}”")
            handle.outputs.update(step_type.run(step, context) or {})
    except Exception as exc:
        raise StepFailed(step, exc) from exc
