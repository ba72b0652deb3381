"""What a definition was at a run, and what changed since or between runs.

Each run records its definition in its trace's inputs (the engines write
`Metric.snapshot()`, `AlertRule.snapshot()`, `Workflow.snapshot()`), so an
answer can say “the threshold was 20,000 then, 10,000 now” and a comparison
“the threshold changed from 20,000 to 10,000”.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineage.assistant.names import NamedThing
from lineage.observability.formatting import format_number, join_phrases, quoted
from lineage.observability.models import ExecutionTrace, TraceType
from lineage.observability.subjects import Subject

# The settings each kind's runs record, in the order they are told.
SNAPSHOT_KEYS = {
    TraceType.METRIC: ("enabled", "kind", "sql", "python_path", "schedule"),
    TraceType.ALERT: ("enabled", "operator", "threshold", "severity", "workflows"),
    TraceType.WORKFLOW: ("enabled", "steps"),
}
_NOUNS = {
    "kind": "kind", "sql": "query", "python_path": "callable", "schedule": "schedule",
    "operator": "comparison", "threshold": "threshold", "severity": "severity",
    "workflows": "workflows", "steps": "steps",
}  # fmt: skip
# Long settings are said to have changed, not quoted whole.
_TOO_LONG = 60


def recorded(trace: ExecutionTrace) -> dict[str, Any]:
    """The definition as `trace`'s run recorded it (only what it recorded)."""
    inputs = trace.inputs or {}
    return {key: inputs[key] for key in SNAPSHOT_KEYS.get(trace.trace_type, ()) if key in inputs}


def current(thing: NamedThing, definition: Any = None) -> dict[str, Any] | None:
    """The definition as it is now (read again unless given), in the same
    shape; None once deleted."""
    definition = definition or Subject(thing.kind, thing.pk).definition()
    if definition is None:
        return None
    if thing.kind == TraceType.WORKFLOW:
        return definition.snapshot(list(definition.steps.order_by("position")))
    return definition.snapshot()


@dataclass(frozen=True)
class Change:
    key: str
    before: Any
    after: Any

    @property
    def since(self) -> str:
        """Said of a run's setting and today's: “the threshold was 20,000
        then, 10,000 now”, “it has since been disabled”."""
        if self.key == "enabled":
            return "it has since been " + ("enabled" if self.after else "disabled")
        before, after = _shown(self.key, self.before), _shown(self.key, self.after)
        if before is None or after is None:
            return f"its {_NOUNS[self.key]} has changed since"
        return f"its {_NOUNS[self.key]} was {before} then, {after} now"

    @property
    def between(self) -> str:
        """Said of two runs: “the threshold changed from 20,000 to 10,000”."""
        if self.key == "enabled":
            return "it was " + ("enabled" if self.after else "disabled") + " in between"
        before, after = _shown(self.key, self.before), _shown(self.key, self.after)
        if before is None or after is None:
            return f"its {_NOUNS[self.key]} changed"
        return f"its {_NOUNS[self.key]} changed from {before} to {after}"


def changes(before: dict[str, Any], after: dict[str, Any] | None) -> list[Change]:
    """The settings recorded in both that differ."""
    if after is None:
        return []
    return [
        Change(key, before[key], after[key])
        for key in before
        if key in after and _comparable(before[key]) != _comparable(after[key])
    ]


def _comparable(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _shown(key: str, value: Any) -> str | None:
    """A setting as a sentence shows it; None when it is too long to quote."""
    if value is None:
        return "none"
    if key == "threshold":
        return format_number(value)
    if key == "workflows":
        return join_phrases(quoted(name) for name in value) if value else "none"
    if key == "steps":
        return join_phrases(f"{step.get('position')} {quoted(step.get('name'))}" for step in value) or "none"
    text = str(value)
    return None if len(text) > _TOO_LONG else quoted(text) if key in ("sql", "python_path") else text
