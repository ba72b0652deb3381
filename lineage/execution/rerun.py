"""Re-running a failed metric or workflow run by hand.

The new run's trace names the failed one among its `dependencies`, so the
lineage and the explanation show the re-run as caused by the failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType
from lineage.observability.subjects import Subject
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Workflow


class CannotRerun(Exception):
    """Why a trace was not re-run, said for people."""


def _rerun_metric(metric: Metric, failed: ExecutionTrace, source: str) -> uuid.UUID:
    run = run_metric_execution(metric, source=source, parents=[failed.id])
    return run.trace_id


def _rerun_workflow(workflow: Workflow, failed: ExecutionTrace, source: str) -> uuid.UUID:
    # The same context as the failed run (metric, value, alert …), so its
    # steps send what they would have sent; run_workflow adds the name back.
    context = dict(failed.inputs.get("context") or {})
    context.pop("workflow", None)
    run = run_workflow(workflow, context=context, source=source, parents=[failed.id])
    return run.trace_id


RERUNNERS: dict[str, Callable[[Any, ExecutionTrace, str], uuid.UUID]] = {
    TraceType.METRIC: _rerun_metric,
    TraceType.WORKFLOW: _rerun_workflow,
}


def is_rerunnable(trace: ExecutionTrace) -> bool:
    """A failed metric or workflow run (its definition may still be gone)."""
    return trace.status == TraceStatus.FAILED and trace.trace_type in RERUNNERS


def rerun(trace: ExecutionTrace, source: str = TraceSource.MANUAL) -> uuid.UUID:
    """Start a new run (by hand, or from chat) of the failed trace's metric
    or workflow and return the new trace's id. Raises CannotRerun, saying
    why, otherwise."""
    if trace.status != TraceStatus.FAILED:
        raise CannotRerun(f"it {_outcome(trace.status)}; only failed runs are re-run")
    if trace.trace_type not in RERUNNERS:
        raise CannotRerun(
            f"a {trace.trace_type} is not re-run on its own; re-run its metric or workflow"
        )
    return RERUNNERS[trace.trace_type](_definition(trace), trace, source)


def _definition(trace: ExecutionTrace) -> Any:
    subject = Subject.parse(trace.subject)
    definition = None
    if subject is not None and subject.kind == trace.trace_type:
        definition = subject.definition(trace.org_id)
    if definition is None:
        raise CannotRerun(f"its {trace.trace_type} ({trace.subject or 'unknown'}) was deleted")
    return definition


def _outcome(status: str) -> str:
    return {
        TraceStatus.RUNNING: "is still running",
        TraceStatus.PENDING: "has not started",
    }.get(status, status)
