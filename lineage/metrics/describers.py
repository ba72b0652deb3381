from __future__ import annotations

from lineage.observability.explain import Description, register_describer
from lineage.observability.formatting import format_number, join_phrases, quoted
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType

# How much of a query an explanation quotes around its error.
QUOTED_SQL = 120
_QUERY_FAILED = "the query failed: "


@register_describer(TraceType.METRIC)
def describe_metric(trace: ExecutionTrace, parent: ExecutionTrace | None = None) -> Description:
    value = (trace.outputs or {}).get("value")
    title = f"Metric {quoted(trace.name)}"
    if trace.status == TraceStatus.SUCCEEDED and value is not None:
        outcome = f"metric {quoted(trace.name)} computed {format_number(value)}"
    else:
        outcome = f"metric {quoted(trace.name)} ran"
    return Description(
        title=title,
        ran="was computed",
        outcome=outcome,
        failure=f"failed: {metric_error(trace)}{_consequence(trace)}",
        result=f"{title} computed {format_number(value)}" if value is not None else "",
    )


def metric_error(trace: ExecutionTrace) -> str:
    """The error of a failed metric for people: a failed query's database
    error with the query it came from (“division by zero, in “SELECT 1/0””)."""
    return metric_error_text(trace.error_summary, (trace.inputs or {}).get("sql"))


def metric_error_text(summary: str, sql: object = None) -> str:
    summary = summary.removeprefix("MetricError: ")
    first_line = summary.splitlines()[0] if summary else "no error was recorded"
    if not first_line.startswith(_QUERY_FAILED) or not sql:
        return first_line
    query = " ".join(str(sql).split())
    if len(query) > QUOTED_SQL:
        query = query[: QUOTED_SQL - 1] + "…"
    return f"its query failed: {first_line.removeprefix(_QUERY_FAILED)}, in {quoted(query)}"


def _consequence(trace: ExecutionTrace) -> str:
    """What the failure kept from happening, as recorded when it failed."""
    skipped = (trace.outputs or {}).get("alerts_not_evaluated") or []
    if not skipped:
        return ""
    names = join_phrases(quoted(name) for name in skipped)
    if len(skipped) == 1:
        return f" — so alert {names} was never evaluated"
    return f" — so alerts {names} were never evaluated"
