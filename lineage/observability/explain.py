"""Plain-English explanations of why a trace ran (and why it failed).

This module walks the ancestry and joins sentences; it knows no engine.
Each engine registers a describer for its trace type that turns one trace
into phrases (see `Description`).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from lineage.observability.models import (
    ExecutionTrace,
    TraceSource,
    TraceStatus,
    short_trace_id,
)
from lineage.observability.store import MAX_LINEAGE_DEPTH, Lineage, get_trace_lineage


@dataclass(frozen=True)
class Description:
    """How to talk about one trace.

    title:   names it at the start of a sentence ("Workflow Notify on-call").
    ran:     what happened to it, after the title ("ran", "was evaluated").
    outcome: what it did, as the cause of its children
             ("alert Revenue spike fired (value 12 > threshold 10, by 2)").
    failure: why it failed, after the title ("failed at step 1 …"); optional.
    result:  a sentence of its own on what it decided, told when it is the
             trace asked about ("Alert “X” did not fire (…)"); optional.
    """

    title: str
    ran: str
    outcome: str
    failure: str = ""
    result: str = ""


Describer = Callable[[ExecutionTrace], Description]
_describers: dict[str, Describer] = {}


def register_describer(trace_type: str) -> Callable[[Describer], Describer]:
    def register(describer: Describer) -> Describer:
        _describers[trace_type] = describer
        return describer

    return register


def describe(trace: ExecutionTrace) -> Description:
    describer = _describers.get(trace.trace_type)
    if describer is not None:
        return describer(trace)
    noun = trace.get_trace_type_display()
    return Description(f"{noun} “{trace.name}”", "ran", f"{noun.lower()} “{trace.name}” ran")


@dataclass
class ExplanationStep:
    trace_id: uuid.UUID
    trace_type: str
    name: str
    status: str
    sentence: str
    trace: ExecutionTrace = field(repr=False)


@dataclass
class Explanation:
    trace_id: uuid.UUID
    text: str
    steps: list[ExplanationStep]
    """One entry per trace of the chain, from the root cause to the trace asked about."""
    missing: list[uuid.UUID] = field(default_factory=list)

    @property
    def sentences(self) -> list[str]:
        return [step.sentence for step in reversed(self.steps) if step.sentence]


def generate_explanation(trace_id: object) -> Explanation:
    """Why `trace_id` ran: one query for the whole ancestry, whatever its length.

    The text answers first (the trace asked about), then walks back to the
    root cause; `.steps` runs the other way, root cause first.
    """
    lineage = get_trace_lineage(trace_id, direction="up", depth=MAX_LINEAGE_DEPTH)
    # Nearest first: the trace asked about, its parents, their parents …
    chain = sorted(lineage.nodes.values(), key=lambda t: (-lineage.depths[t.id], t.started_at))
    rerun_ids = _rerun_ids(lineage)
    steps = [
        ExplanationStep(
            trace.id,
            trace.trace_type,
            trace.name,
            trace.status,
            _sentence(trace, lineage, rerun=trace.id in rerun_ids),
            trace,
        )
        for trace in chain
    ]
    text = " ".join(step.sentence for step in steps if step.sentence)
    return Explanation(lineage.root_id, text, list(reversed(steps)), sorted(lineage.missing))


def _rerun_ids(lineage: Lineage) -> set[uuid.UUID]:
    """The failed runs in this lineage that a person re-ran."""
    return {
        parent_id
        for child in lineage.nodes.values()
        for parent_id in lineage.parents_of(child.id)
        if parent_id in lineage.nodes and _is_rerun_of(child, lineage.nodes[parent_id])
    }


def _sentence(trace: ExecutionTrace, lineage: Lineage, *, rerun: bool = False) -> str:
    """Why `trace` ran. A root cause is told inside its child's sentence,
    unless it is the trace asked about or a failed run that was re-run (its
    re-run's sentence tells how it failed, not how it started)."""
    description = describe(trace)
    parent_ids = lineage.parents_of(trace.id)
    is_asked_about = trace.id == lineage.root_id
    if parent_ids:
        causes = [_cause(parent_id, lineage, trace) for parent_id in parent_ids]
        why = f"{description.title} {description.ran} because {join_phrases(causes)}."
    elif is_asked_about or rerun:
        outcome = description.outcome
        why = f"{outcome[0].upper()}{outcome[1:]} {origin(trace)}."
    else:
        return ""
    if is_asked_about:
        why += _status_sentence(trace, description)
    return why


def _cause(parent_id: uuid.UUID, lineage: Lineage, child: ExecutionTrace) -> str:
    parent = lineage.nodes.get(parent_id)
    if parent is None:
        return f"of trace {short_trace_id(parent_id)}, which no longer exists"
    if parent.dependencies or _is_rerun_of(child, parent):
        return cause_of(child, parent)
    return f"{describe(parent).outcome} {origin(parent)}"  # a root cause says how it began


def cause_of(child: ExecutionTrace, parent: ExecutionTrace) -> str:
    """What `parent` did that made `child` run, after “because”."""
    if _is_rerun_of(child, parent):
        failure = describe(parent).failure or "failed"
        return (
            f"it was re-run {_how_started(child)} after its run at "
            f"{format_time(parent.started_at)} {failure}"
        )
    return describe(parent).outcome


def _status_sentence(trace: ExecutionTrace, description: Description) -> str:
    if trace.status == TraceStatus.SUCCEEDED and description.result:
        return f" {description.result}."
    if trace.status == TraceStatus.FAILED:
        failure = description.failure or f"failed: {trace.error_summary}"
        return f" {description.title} {failure}."
    if trace.status == TraceStatus.RUNNING:
        return f" {description.title} is still running."
    if trace.status == TraceStatus.ABANDONED:
        return f" {description.title} was abandoned before it finished."
    return ""


def _is_rerun_of(child: ExecutionTrace, parent: ExecutionTrace) -> bool:
    """A person started `child` again after `parent`, a failed run of the same thing."""
    return (
        child.source in (TraceSource.MANUAL, TraceSource.CHAT)
        and parent.status == TraceStatus.FAILED
        and bool(child.subject)
        and parent.subject == child.subject
    )


def origin(trace: ExecutionTrace) -> str:
    """How a trace with no parent was started."""
    inputs = trace.inputs or {}
    if trace.source == TraceSource.SCHEDULE:
        schedule = inputs.get("schedule")
        return f"on its schedule ({schedule})" if schedule else "on its schedule"
    if trace.source == TraceSource.CHAT:
        return f"when asked to {_how_started(trace)}"
    if trace.source == TraceSource.MANUAL:
        return f"when started {_how_started(trace)}"
    return "as a dependency of a run that was not recorded"


def _how_started(trace: ExecutionTrace) -> str:
    """“by hand by ada”, “from chat by ada”."""
    started_by = (trace.inputs or {}).get("started_by")
    who = f" by {started_by}" if started_by else ""
    return f"from chat{who}" if trace.source == TraceSource.CHAT else f"by hand{who}"


def join_phrases(parts: Iterable[str]) -> str:
    """“a”, “a and b”, “a, b and c”."""
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def format_number(value: object) -> str:
    """12840.0 → “12,840”; 0.125 → “0.125”; text stays text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def format_time(moment: datetime | None) -> str:
    """“10:05” today, “Nov 27 10:05” on another day (in the display time zone)."""
    if moment is None:
        return "an unknown time"
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return local.strftime("%b %-d %H:%M")
