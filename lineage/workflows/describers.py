from __future__ import annotations

from lineage.observability.explain import Description, register_describer
from lineage.observability.formatting import sentence_case
from lineage.observability.models import ExecutionTrace, TraceType


@register_describer(TraceType.WORKFLOW)
def describe_workflow(trace: ExecutionTrace) -> Description:
    failed_step = (trace.outputs or {}).get("failed_step")
    failure = ""
    if failed_step:
        cause = trace.error_summary.split("failed: ", 1)[-1]
        failure = (
            f"failed at step {failed_step['position']} “{failed_step['name']}” "
            f"({failed_step['kind']}): {cause}"
        )
    return Description(
        title=f"Workflow “{trace.name}”",
        ran="ran",
        outcome=f"workflow “{trace.name}” ran",
        failure=failure,
    )


@register_describer(TraceType.STEP)
def describe_step(trace: ExecutionTrace) -> Description:
    inputs = trace.inputs or {}
    where = f"step {inputs.get('position', '?')} “{trace.name}” of workflow “{inputs.get('workflow', '?')}”"
    return Description(
        title=sentence_case(where),
        ran="ran",
        outcome=f"{where} ran",
        failure=f"failed: {trace.error_summary}",
    )
