from __future__ import annotations

from lineage.observability.explain import Description, register_describer
from lineage.observability.formatting import format_number, format_time
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType


@register_describer(TraceType.METRIC)
def describe_metric(trace: ExecutionTrace) -> Description:
    value = (trace.outputs or {}).get("value")
    when = format_time(trace.completed_at or trace.started_at)
    if trace.status == TraceStatus.SUCCEEDED and value is not None:
        outcome = f"metric “{trace.name}” computed {format_number(value)} at {when}"
    else:
        outcome = f"metric “{trace.name}” ran at {when}"
    return Description(
        title=f"Metric “{trace.name}”",
        ran="was computed",
        outcome=outcome,
        failure=f"failed: {trace.error_summary}",
    )
