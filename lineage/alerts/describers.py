from __future__ import annotations

from lineage.observability.explain import Description, register_describer
from lineage.observability.formatting import format_number, sentence_case
from lineage.observability.models import ExecutionTrace, TraceType


@register_describer(TraceType.ALERT)
def describe_alert(trace: ExecutionTrace) -> Description:
    inputs, outputs = trace.inputs or {}, trace.outputs or {}
    comparison = (
        f"value {format_number(inputs.get('value'))} {inputs.get('operator', '?')} "
        f"threshold {format_number(inputs.get('threshold'))}"
    )
    margin = outputs.get("margin")
    if outputs.get("fired"):
        by = f", by {format_number(abs(margin))}" if margin else ""
        outcome = f"alert “{trace.name}” fired ({comparison}{by})"
    elif "fired" in outputs:
        short = f", short by {format_number(abs(margin))}" if margin else ""
        outcome = f"alert “{trace.name}” did not fire ({comparison} is false{short})"
    else:
        outcome = f"alert “{trace.name}” was evaluated"
    result = sentence_case(outcome) if "fired" in outputs else ""
    return Description(
        title=f"Alert “{trace.name}”", ran="was evaluated", outcome=outcome, result=result
    )
