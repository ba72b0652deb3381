"""Plain-English explanations of why a trace ran (and why it failed).

This module walks the ancestry and joins sentences; it knows no engine.
Each engine registers a describer for its trace type that turns one trace
into phrases (see `Description`).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from lineage.observability.formatting import format_time, join_phrases, sentence_case
from lineage.observability.ids import short_trace_id
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus
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
    """One trace of the chain.

    sentence: how it reads in the explanation's text; empty for a root
              cause, which its child's sentence tells ("because metric X
              computed 10 on its schedule").
    line:     how it reads on a line of its own, as the trace page's chain
              shows it: never empty.
    """

    trace: ExecutionTrace = field(repr=False)
    sentence: str
    line: str
    is_subject: bool = False  # the trace asked about

    @property
    def trace_id(self) -> uuid.UUID:
        return self.trace.id

    @property
    def trace_type(self) -> str:
        return self.trace.trace_type

    @property
    def name(self) -> str:
        return self.trace.name

    @property
    def status(self) -> str:
        return self.trace.status


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
    steps = []
    for trace in chain:
        sentence = _sentence(trace, lineage, rerun=trace.id in rerun_ids)
        line = sentence or root_sentence(trace)
        steps.append(ExplanationStep(trace, sentence, line, trace.id == lineage.root_id))
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
        why = root_sentence(trace)
    else:
        return ""
    if is_asked_about:
        why += _status_sentence(trace, description)
    return why


def root_sentence(trace: ExecutionTrace) -> str:
    """What a trace with no parent did, and how it was started."""
    return f"{sentence_case(describe(trace).outcome)} {origin(trace)}."


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


def why_each_ran(runs: list[ExecutionTrace]) -> dict[uuid.UUID, str]:
    """A one-line why per run (“Because alert X fired …”, “Ran on its
    schedule.”), told by each run's direct parents, which are fetched in one
    query for all the runs."""
    parent_ids = {parent_id for run in runs for parent_id in run.dependencies}
    parents = (
        {p.id: p for p in ExecutionTrace.objects.filter(id__in=parent_ids)} if parent_ids else {}
    )
    return {run.id: _why_ran(run, parents) for run in runs}


def _why_ran(run: ExecutionTrace, parents: dict[uuid.UUID, ExecutionTrace]) -> str:
    if not run.dependencies:
        return f"Ran {origin(run)}."
    causes = [
        cause_of(run, parents[p])
        for p in dict.fromkeys(run.dependencies)
        if p in parents and parents[p].org_id == run.org_id
    ]
    if not causes:
        return "Caused by a trace that no longer exists."
    return f"Because {join_phrases(causes)}."
