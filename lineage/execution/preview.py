"""“What would fire now?” — a dry run of a metric and its alerts.

The value is computed the way a run computes it (`compute_metric_value`,
the metric engine's own path: read-only, time-boxed, sandboxed), and its
enabled alerts are judged the way `evaluate_alerts` judges them — but no
trace is written, no value is stored and no workflow starts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lineage.alerts.evaluator import Verdict, preview_alerts
from lineage.metrics.describers import metric_error_text
from lineage.metrics.engine import compute_metric_value
from lineage.metrics.models import Metric
from lineage.observability.formatting import format_number, join_phrases, quoted

NOTHING_RECORDED = "Nothing was recorded: no trace, no stored value, no workflow started."


@dataclass
class Preview:
    metric: Metric
    value: float | None = None
    error: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    nothing_recorded = NOTHING_RECORDED

    @property
    def sentences(self) -> list[str]:
        name = quoted(self.metric.name)
        if self.error:
            sql = self.metric.sql if self.metric.kind == "sql" else None
            return [f"Metric {name} would fail: {metric_error_text(self.error, sql)}."]
        said = [f"Metric {name} would be {format_number(self.value)}."]
        if not self.verdicts:
            said.append("It has no enabled alert, so nothing would fire.")
        return said + [_verdict_sentence(verdict) for verdict in self.verdicts]

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.name,
            "value": self.value,
            "error": self.error,
            "alerts": [
                {
                    "name": v.rule.name,
                    "operator": v.rule.operator,
                    "threshold": v.rule.threshold,
                    "fired": v.fired,
                    "margin": v.margin,
                    "workflows": [{"name": w.name, "steps": len(w.steps.all())} for w in v.workflows],
                }
                for v in self.verdicts
            ],
        }


def _verdict_sentence(verdict: Verdict) -> str:
    rule = verdict.rule
    compared = f"{format_number(verdict.value)} {rule.operator} {format_number(rule.threshold)}"
    name = quoted(rule.name)
    if not verdict.fired:
        short = f", short by {format_number(abs(verdict.margin))}" if verdict.margin else ""
        return f"Alert {name} would not fire ({compared} is false{short})."
    by = f", by {format_number(abs(verdict.margin))}" if verdict.margin else ""
    if not verdict.workflows:
        return f"Alert {name} would fire ({compared}{by}) and start no workflow."
    started = join_phrases(f"{quoted(w.name)} ({_steps(w)})" for w in verdict.workflows)
    noun = "workflow" if len(verdict.workflows) == 1 else "workflows"
    return f"Alert {name} would fire ({compared}{by}) and start {noun} {started}."


def _steps(workflow) -> str:
    count = len(workflow.steps.all())
    return "1 step" if count == 1 else f"{count} steps"


def preview_metric(metric: Metric) -> Preview:
    """Compute `metric` now and judge its alerts, recording nothing."""
    try:
        value = compute_metric_value(metric)
    except Exception as exc:  # any failure of the metric is its answer, as in a run
        return Preview(metric, error=f"{type(exc).__name__}: {exc}")
    return Preview(metric, value, verdicts=preview_alerts(metric, value))
