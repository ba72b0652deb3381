"""Plain-English explanations of why a trace ran (and why it failed).

The text leads with what happened to the trace asked about, then walks
the cause chain back to its root: how that began (which schedule tick and
how late, who asked and where). This module walks the ancestry and joins
sentences; it knows no engine. Each engine registers a describer for its
trace type that turns one trace into phrases (see `Description`).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lineage.observability.formatting import (
    format_duration,
    format_time,
    join_phrases,
    sentence_case,
)
from lineage.observability.ids import short_trace_id
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus
from lineage.observability.store import MAX_LINEAGE_DEPTH, Lineage, get_trace_lineage

# A scheduled run that starts this long after its tick says how late it was;
# sooner is on time (run_scheduler runs once a minute).
LATE_AFTER = timedelta(minutes=1)
# How a person who started a run from a terminal is recorded (see output.py).
TERMINAL_SUFFIX = " (terminal)"


@dataclass(frozen=True)
class Description:
    """How to talk about one trace.

    title:   names it at the start of a sentence ("Workflow “Notify on-call”").
    ran:     what happened to it, after the title ("ran", "was evaluated").
    outcome: what it did, as the cause of its children
             ("alert “Revenue spike” fired (value 12 > threshold 10, by 2)").
    failure: why it failed, after the title ("failed at step 1 …"); optional.
    result:  a sentence of its own on what it did, told first when it is
             the trace asked about and it succeeded ("Alert “X” did not
             fire (…)"); optional.
    part_of_parent: its parent's sentence says why it ran (a workflow's
             step), so its own sentence only says what happened to it.
    """

    title: str
    ran: str
    outcome: str
    failure: str = ""
    result: str = ""
    part_of_parent: bool = False


# A describer gets the trace and, when the explanation has it, its parent.
Describer = Callable[[ExecutionTrace, ExecutionTrace | None], Description]
_describers: dict[str, Describer] = {}


def register_describer(trace_type: str) -> Callable[[Describer], Describer]:
    def register(describer: Describer) -> Describer:
        _describers[trace_type] = describer
        return describer

    return register


def describe(trace: ExecutionTrace, parent: ExecutionTrace | None = None) -> Description:
    describer = _describers.get(trace.trace_type)
    if describer is not None:
        return describer(trace, parent)
    noun = trace.get_trace_type_display()
    return Description(f"{noun} “{trace.name}”", "ran", f"{noun.lower()} “{trace.name}” ran")


@dataclass
class ExplanationStep:
    """One trace of the chain.

    sentence: how it reads in the explanation's text; empty for a root
              cause, which its child's sentence tells ("because metric X
              computed 10 at the 10:05 tick of its schedule").
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

    The text answers first (what happened to the trace asked about), then
    walks back to the root cause; `.steps` runs the other way, root cause first.
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


def _only_parent(trace: ExecutionTrace, lineage: Lineage) -> ExecutionTrace | None:
    parents = [lineage.nodes[p] for p in lineage.parents_of(trace.id) if p in lineage.nodes]
    return parents[0] if len(parents) == 1 else None


def _sentence(trace: ExecutionTrace, lineage: Lineage, *, rerun: bool = False) -> str:
    """What happened to `trace` (for the trace asked about), then why it ran.
    A root cause is told inside its child's sentence, unless it is the
    trace asked about or a failed run that was re-run (its re-run's
    sentence tells how it failed, not how it started)."""
    description = describe(trace, _only_parent(trace, lineage))
    parent_ids = lineage.parents_of(trace.id)
    is_asked_about = trace.id == lineage.root_id
    outcome = status_sentence(trace, description) if is_asked_about else ""
    subject = "It" if outcome else description.title
    rerun_of = _rerun_parent(trace, lineage)
    if parent_ids and description.part_of_parent:
        return outcome or f"{description.title} {description.ran}."
    if rerun_of is not None and len(parent_ids) == 1:
        why = f"{subject} was {_rerun_phrase(trace, rerun_of)}."
    elif parent_ids:
        causes = join_phrases(_cause(parent_id, lineage, trace) for parent_id in parent_ids)
        why = f"{subject} {description.ran} because {causes}."
    elif is_asked_about and outcome and trace.status in (TraceStatus.RUNNING, TraceStatus.PENDING):
        # Its start time is in the outcome ("has been running since 11:19").
        why = f"It began {origin(trace, with_time=False)}."
    elif is_asked_about and outcome:
        why = f"It ran {origin(trace)}."
    elif is_asked_about or rerun:
        why = root_sentence(trace)
    else:
        return ""
    return f"{outcome} {why}" if outcome else why


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


def _rerun_parent(trace: ExecutionTrace, lineage: Lineage) -> ExecutionTrace | None:
    parent = _only_parent(trace, lineage)
    return parent if parent is not None and _is_rerun_of(trace, parent) else None


def _rerun_phrase(child: ExecutionTrace, failed: ExecutionTrace) -> str:
    """“re-run by hand by ada after its run at 10:05 failed: …” — or “failed
    the same way”, so an error that repeats is said once."""
    same = child.status == TraceStatus.FAILED and child.error_summary == failed.error_summary
    failure = "failed the same way" if same else describe(failed).failure or "failed"
    return f"re-run {_who_reran(child)} after its run at {format_time(failed.started_at)} {failure}"


def cause_of(child: ExecutionTrace, parent: ExecutionTrace) -> str:
    """What `parent` did that made `child` run, after “because”."""
    if _is_rerun_of(child, parent):
        return f"it was {_rerun_phrase(child, parent)}"
    return describe(parent).outcome


def status_sentence(trace: ExecutionTrace, description: Description | None = None) -> str:
    """What happened to a trace, as the first sentence about it; "" when
    there is nothing to say beyond that it ran."""
    description = description or describe(trace)
    if trace.status == TraceStatus.SUCCEEDED and description.result:
        return f"{description.result}."
    if trace.status == TraceStatus.FAILED:
        failure = description.failure or f"failed: {trace.error_summary}"
        return f"{description.title} {failure}."
    if trace.status in (TraceStatus.RUNNING, TraceStatus.PENDING):
        verb = "has been running" if trace.status == TraceStatus.RUNNING else "has been waiting to start"
        return f"{description.title} {verb} since {format_time(trace.started_at)}."
    if trace.status == TraceStatus.ABANDONED:
        return f"{description.title} was abandoned before it finished: {trace.error_summary or 'its process stopped'}."
    return ""


def _is_rerun_of(child: ExecutionTrace, parent: ExecutionTrace) -> bool:
    """A person started `child` again after `parent`, a failed run of the same thing."""
    return (
        child.source in (TraceSource.MANUAL, TraceSource.CHAT)
        and parent.status == TraceStatus.FAILED
        and bool(child.subject)
        and parent.subject == child.subject
    )


def origin(trace: ExecutionTrace, *, with_time: bool = True) -> str:
    """How and when a trace with no parent was started: “at the 09:00 tick
    of its schedule (0 9 * * *), which ran 2 h 25 min late at 11:25”, “at
    10:05 when ada started it by hand”. Without the time where it is said
    already (a row of a table, "has been running since 11:19")."""
    inputs = trace.inputs or {}
    if trace.source == TraceSource.SCHEDULE:
        return _scheduled(trace, inputs.get("schedule"), inputs.get("scheduled_for"), with_time)
    when = f"at {format_time(trace.started_at)}" if with_time else ""
    who, at_terminal = started_by(trace)
    if trace.source == TraceSource.CHAT:
        where = "at the terminal" if at_terminal else "in chat"
        said = f"when {who or 'someone'} asked for it {where}"
    elif trace.source == TraceSource.MANUAL:
        how = "from the terminal" if at_terminal else "by hand"
        said = f"when {who} started it {how}" if who else f"when started {how}"
    else:
        said = "as a dependency of a run that was not recorded"
    return f"{when} {said}".strip()


def _scheduled(trace: ExecutionTrace, schedule: str | None, tick: object, with_time: bool) -> str:
    of_schedule = f"of its schedule ({schedule})" if schedule else "of its schedule"
    tick_at = _moment(tick)
    if tick_at is None:
        when = f"at {format_time(trace.started_at)} " if with_time else ""
        return f"{when}on its schedule" + (f" ({schedule})" if schedule else "")
    said = f"at the {format_time(tick_at)} tick {of_schedule}"
    late = trace.started_at - tick_at
    if late < LATE_AFTER:
        return said
    at = f" at {format_time(trace.started_at)}" if with_time else ""
    return f"{said}, which ran {format_duration(late)} late{at}"


def _moment(value: object) -> datetime | None:
    """A datetime recorded in a trace's JSON (an ISO 8601 string)."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def started_by(trace: ExecutionTrace) -> tuple[str, bool]:
    """Who started a run (“ada”, or “” when unknown) and whether at a terminal."""
    who = str((trace.inputs or {}).get("started_by") or "")
    if who.endswith(TERMINAL_SUFFIX):
        return who.removesuffix(TERMINAL_SUFFIX), True
    return who, False


def _who_reran(trace: ExecutionTrace) -> str:
    """“by ada”, “from chat by ada”, “from the terminal by root”."""
    who, at_terminal = started_by(trace)
    by = f" by {who}" if who else ""
    if at_terminal:
        return f"from the terminal{by}"
    if trace.source == TraceSource.CHAT:
        return f"from chat{by}"
    return f"by hand{by}"


def why_each_ran(runs: list[ExecutionTrace]) -> dict[uuid.UUID, str]:
    """A one-line why per run (“Because alert X fired …”, “Ran at the 10:05
    tick of its schedule.”), told by each run's direct parents, which are
    fetched in one query for all the runs."""
    parent_ids = {parent_id for run in runs for parent_id in run.dependencies}
    parents = (
        {p.id: p for p in ExecutionTrace.objects.filter(id__in=parent_ids)} if parent_ids else {}
    )
    return {run.id: _why_ran(run, parents) for run in runs}


def _why_ran(run: ExecutionTrace, parents: dict[uuid.UUID, ExecutionTrace]) -> str:
    if not run.dependencies:
        return f"Ran {origin(run, with_time=False)}."  # its row shows when
    only = parents.get(run.dependencies[0]) if len(set(run.dependencies)) == 1 else None
    if only is not None and only.org_id == run.org_id and _is_rerun_of(run, only):
        return f"{sentence_case(_rerun_phrase(run, only))}."
    causes = [
        cause_of(run, parents[p])
        for p in dict.fromkeys(run.dependencies)
        if p in parents and parents[p].org_id == run.org_id
    ]
    if not causes:
        return "Caused by a trace that no longer exists."
    return f"Because {join_phrases(causes)}."
