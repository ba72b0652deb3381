from __future__ import annotations

from lineage.observability.explain import Description, register_describer
from lineage.observability.formatting import format_number, join_phrases, quoted, sentence_case
from lineage.observability.models import ExecutionTrace, TraceType


def comparison(inputs: dict, outputs: dict) -> str:
    """“value 12,840 > threshold 10,000, by 2,840” (or “… is false, short by 1,000”)."""
    said = (
        f"value {format_number(inputs.get('value'))} {inputs.get('operator', '?')} "
        f"threshold {format_number(inputs.get('threshold'))}"
    )
    margin = outputs.get("margin")
    if outputs.get("fired"):
        return said + (f", by {format_number(abs(margin))}" if margin else "")
    return said + " is false" + (f", short by {format_number(abs(margin))}" if margin else "")


@register_describer(TraceType.ALERT)
def describe_alert(trace: ExecutionTrace, parent: ExecutionTrace | None = None) -> Description:
    inputs, outputs = trace.inputs or {}, trace.outputs or {}
    name = quoted(trace.name)
    if outputs.get("fired"):
        outcome = f"alert {name} fired ({comparison(inputs, outputs)})"
    elif "fired" in outputs:
        outcome = f"alert {name} did not fire ({comparison(inputs, outputs)})"
    else:
        outcome = f"alert {name} was evaluated"
    result = ""
    if "fired" in outputs:
        result = sentence_case(outcome) + _started(outputs)
    return Description(title=f"Alert {name}", ran="was evaluated", outcome=outcome, result=result)


def _started(outputs: dict) -> str:
    if not outputs.get("fired"):
        return ""
    workflows = outputs.get("workflows") or []
    if not workflows:
        return " and started no workflow"
    noun = "workflow" if len(workflows) == 1 else "workflows"
    return f" and started {noun} " + join_phrases(quoted(w) for w in workflows)
