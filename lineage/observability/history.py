"""What a definition's recent runs and a run's traces say at a glance: a
trace's result in a few words, a run rolled up into one line, the cause of
an error, and how long something has been failing.

Reads only the outputs the engines record (a metric's `value`, an alert's
`fired` and `margin`, a workflow's `failed_step`), never an engine.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from lineage.observability.formatting import format_number, join_phrases
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType

# Runs a definition page and a failed trace's triage look back over.
HISTORY_RUNS = 200
# Outcomes drawn in a history strip.
STRIP_RUNS = 20
# Pieces of a run's one-line summary before “+N more”.
SUMMARY_PIECES = 4

_ERRNO = re.compile(r"^\[Errno \d+\]\s*")
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://([^/\s\"'”]+)", re.IGNORECASE)
_HEX_RUN = re.compile(r"\b[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b", re.IGNORECASE)
_UNFINISHED = {TraceStatus.RUNNING, TraceStatus.PENDING}


def trace_result(trace: ExecutionTrace) -> str:
    """What one trace produced: “computed 6”, “fired by 1”, “did not fire,
    short by 4”, “step 1 failed”, “2 steps run”; "" when it says nothing."""
    outputs = trace.outputs or {}
    if trace.trace_type == TraceType.METRIC and outputs.get("value") is not None:
        return f"computed {format_number(outputs['value'])}"
    if trace.trace_type == TraceType.ALERT and "fired" in outputs:
        return _alert_result(bool(outputs["fired"]), outputs.get("margin"))
    if trace.trace_type == TraceType.WORKFLOW and isinstance(outputs.get("failed_step"), dict):
        return f"step {outputs['failed_step'].get('position', '?')} failed"
    if trace.trace_type == TraceType.WORKFLOW and "steps_run" in outputs:
        count = outputs["steps_run"]
        return f"{count} step{'s' if count != 1 else ''} run"
    if trace.status == TraceStatus.FAILED:
        return "failed"
    return ""


def _alert_result(fired: bool, margin: object) -> str:
    has_margin = isinstance(margin, int | float) and not isinstance(margin, bool) and margin
    if fired:
        return f"fired by {format_number(abs(margin))}" if has_margin else "fired"
    return f"did not fire, short by {format_number(abs(margin))}" if has_margin else "did not fire"


def root_cause(error: str) -> str:
    """The innermost cause of an error, where it happened: “StepFailed: step
    1 … POST http://127.0.0.1:9/x failed: [Errno 111] Connection refused” →
    “Connection refused at 127.0.0.1:9”. The first line only; "" for none."""
    summary = error.split("Traceback (most recent call last)", 1)[0].strip()
    first_line = summary.splitlines()[0].strip() if summary else ""
    if not first_line:
        return ""
    parts = first_line.split(": ")
    cause = parts[-1] if len(parts) > 2 else first_line
    cause = _ERRNO.sub("", cause).strip() or first_line
    address = _ADDRESS.search(first_line)
    if address and address.group(1) not in cause:
        cause = f"{cause} at {address.group(1)}"
    return cause


def error_key(error: str) -> str:
    """The root cause with ids blanked, so the same failure of different
    runs groups together."""
    return _HEX_RUN.sub("…", root_cause(error)).lower()


# --- A run: a root trace and everything it caused ----------------------------


@dataclass
class Run:
    root: ExecutionTrace
    traces: list[ExecutionTrace] = field(default_factory=list)
    """Every trace of the run, the root first, nearest the root first."""

    @cached_property
    def status(self) -> str:
        """Failed if anything failed, running while anything runs."""
        statuses = {trace.status for trace in self.traces} or {self.root.status}
        for status in (TraceStatus.FAILED, TraceStatus.RUNNING, TraceStatus.PENDING,
                       TraceStatus.ABANDONED):
            if status in statuses:
                return status
        return TraceStatus.SUCCEEDED

    @property
    def finished_at(self) -> datetime | None:
        ends = [trace.completed_at for trace in self.traces]
        if not ends or any(end is None for end in ends):
            return None
        return max(ends)

    @property
    def duration(self) -> timedelta | None:
        end = self.finished_at
        return None if end is None else end - self.root.started_at

    @cached_property
    def summary(self) -> str:
        """“Open orders = 6 → Orders piling up fired → Page ops ✗ step 1
        (Connection refused)”: what each trace that mattered did."""
        pieces = [_piece(trace) for trace in self.traces if _tells(trace, self.root)]
        quiet = sum(1 for trace in self.traces if _is_quiet_alert(trace))
        text = " → ".join(pieces[:SUMMARY_PIECES])
        if len(pieces) > SUMMARY_PIECES:
            text += f" → +{len(pieces) - SUMMARY_PIECES} more"
        if quiet:
            text += f" · {quiet} alert{'s' if quiet != 1 else ''} did not fire"
        return text

    @property
    def error(self) -> str:
        """The root cause of the first failure, nearest the root."""
        failed = [t for t in self.traces if t.status == TraceStatus.FAILED and t.error]
        return root_cause(failed[0].error) if failed else ""


def _is_quiet_alert(trace: ExecutionTrace) -> bool:
    return trace.trace_type == TraceType.ALERT and (trace.outputs or {}).get("fired") is False


def _tells(trace: ExecutionTrace, root: ExecutionTrace) -> bool:
    if trace.id == root.id:
        return True
    if trace.trace_type == TraceType.STEP:
        return False  # told with its workflow (“✗ step 1 …”)
    return not (_is_quiet_alert(trace) and trace.status == TraceStatus.SUCCEEDED)


def _piece(trace: ExecutionTrace) -> str:
    outputs = trace.outputs or {}
    if trace.status == TraceStatus.FAILED:
        step = outputs.get("failed_step")
        where = f" step {step.get('position', '?')}" if isinstance(step, dict) else ""
        cause = root_cause(trace.error)
        return f"{trace.name} ✗{where}" + (f" ({cause})" if cause else "")
    if trace.status in _UNFINISHED:
        return f"{trace.name} {trace.status}"
    if trace.status == TraceStatus.ABANDONED:
        return f"{trace.name} abandoned"
    if trace.trace_type == TraceType.METRIC and outputs.get("value") is not None:
        return f"{trace.name} = {format_number(outputs['value'])}"
    if trace.trace_type == TraceType.ALERT and outputs.get("fired"):
        return f"{trace.name} fired"
    if trace.trace_type == TraceType.WORKFLOW:
        return f"{trace.name} ✓"
    return trace.name


def group_runs(roots: Sequence[ExecutionTrace], traces: Sequence[ExecutionTrace]) -> list[Run]:
    """Runs in the roots' order, each with its traces (tagged `run_id` by
    ExecutionTrace.objects.traces_of_runs)."""
    runs = {root.id: Run(root) for root in roots}
    for trace in traces:
        run = runs.get(getattr(trace, "run_id", None))
        if run is not None:
            run.traces.append(trace)
    for run in runs.values():
        if not run.traces:
            run.traces.append(run.root)
    return list(runs.values())


# --- A definition's history: failing since, success rate ----------------------


@dataclass
class History:
    """A definition's latest runs as (status, started_at, id), newest first."""

    outcomes: list[tuple[str, datetime, uuid.UUID]]
    looked_back: int = HISTORY_RUNS

    @property
    def strip(self) -> list[tuple[str, datetime, uuid.UUID]]:
        """The last STRIP_RUNS outcomes, oldest first, as a strip draws them."""
        return list(reversed(self.outcomes[:STRIP_RUNS]))

    @property
    def failing_streak(self) -> list[tuple[str, datetime, uuid.UUID]]:
        """The failed runs since the last finished run that did not fail
        (runs still going are skipped), newest first."""
        streak = []
        for outcome in self.outcomes:
            if outcome[0] in _UNFINISHED:
                continue
            if outcome[0] != TraceStatus.FAILED:
                break
            streak.append(outcome)
        return streak

    @property
    def is_failing(self) -> bool:
        return bool(self.failing_streak)

    @property
    def failing_since(self) -> datetime | None:
        streak = self.failing_streak
        return streak[-1][1] if streak else None

    @property
    def streak_is_longer(self) -> bool:
        """The streak reaches back past what was looked at (“200+ runs”)."""
        return len(self.outcomes) >= self.looked_back and len(self.failing_streak) >= sum(
            1 for o in self.outcomes if o[0] not in _UNFINISHED
        )

    @property
    def last_success(self) -> datetime | None:
        return next((o[1] for o in self.outcomes if o[0] == TraceStatus.SUCCEEDED), None)

    @property
    def finished(self) -> int:
        return sum(1 for o in self.outcomes if o[0] not in _UNFINISHED)

    @property
    def success_rate(self) -> float | None:
        """Succeeded ÷ finished over the runs looked at; None before any ended."""
        if not self.finished:
            return None
        succeeded = sum(1 for o in self.outcomes if o[0] == TraceStatus.SUCCEEDED)
        return succeeded / self.finished


def history_of(traces, subject: str, runs: int = HISTORY_RUNS) -> History:
    """One query on trace_subject: the latest `runs` outcomes of `subject`."""
    return History(traces.runs_of(subject).outcomes(runs), runs)


# --- Failures grouped by cause, across definitions ------------------------------


@dataclass
class CauseGroup:
    """Failures with the same root cause, whatever definition failed: the
    latest failed run of each definition (and step) it hit, newest first."""

    cause: str
    failed: list[ExecutionTrace] = field(default_factory=list)
    hidden: int = 0  # definitions with this cause that a page leaves out

    @cached_property
    def failures(self) -> int:
        return sum(getattr(trace, "failures", 1) for trace in self.failed)

    @property
    def latest(self) -> ExecutionTrace:
        return self.failed[0]

    def keep_first(self, count: int) -> None:
        """Keep the newest `count` definitions for a page; the counts and the
        “4 workflows” still tell all of them."""
        _ = self.failures, self.what
        self.hidden = max(len(self.failed) - count, 0)
        self.failed = self.failed[:count]

    @cached_property
    def what(self) -> str:
        """“4 workflows”, “1 metric and 2 workflows”."""
        kinds: dict[str, set] = {}
        for trace in self.failed:
            kinds.setdefault(trace.trace_type, set()).add(trace.subject or trace.name)
        parts = [
            f"{len(names)} {trace_type}{'s' if len(names) != 1 else ''}"
            for trace_type, names in kinds.items()
        ]
        return join_phrases(parts)


def group_by_cause(failed: Sequence[ExecutionTrace]) -> list[CauseGroup]:
    """Definition groups (ExecutionTrace.objects.failure_groups(), newest
    first) gathered by the root cause of their latest error."""
    groups: dict[str, CauseGroup] = {}
    for trace in failed:
        key = error_key(trace.error) or "(no error recorded)"
        group = groups.setdefault(key, CauseGroup(root_cause(trace.error) or "(no error recorded)"))
        group.failed.append(trace)
    return list(groups.values())


def histories_of(outcomes: Sequence[tuple[str, str, datetime, uuid.UUID]], looked_back: int) -> dict[str, History]:
    """Per subject, from ExecutionTrace.objects.latest_outcomes_of()."""
    by_subject: dict[str, list] = {}
    for subject, status, started_at, trace_id in outcomes:
        by_subject.setdefault(subject, []).append((status, started_at, trace_id))
    return {subject: History(rows, looked_back) for subject, rows in by_subject.items()}
