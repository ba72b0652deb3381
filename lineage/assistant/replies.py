"""What an answer is made of — sentences, each citing the trace it is about,
and maybe a run offered for the person to confirm — and the reads every
tool shares."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lineage.assistant.intents import Intent
from lineage.assistant.names import NamedThing
from lineage.assistant.planner import AskContext, Plan
from lineage.assistant.timephrases import Window, parse_window
from lineage.observability.explain import describe
from lineage.observability.formatting import format_time
from lineage.observability.models import ExecutionTrace, ExecutionTraceQuerySet, TraceStatus
from lineage.observability.redaction import redact

MAX_LISTED = 15


@dataclass
class Line:
    text: str
    trace_id: uuid.UUID | None = None
    label: str = ""


@dataclass(frozen=True)
class Proposal:
    """A run an answer offers. Nothing runs until the person confirms it
    (a button), which asks for exactly this run."""

    label: str  # “Run Daily revenue now”
    subject: str  # what to run, “metric:3”
    rerun_of: str = ""  # the failed trace a re-run follows, when it is one

    def as_dict(self) -> dict[str, str]:
        data = {"label": self.label, "subject": self.subject}
        if self.rerun_of:
            data["rerun_of"] = self.rerun_of
        return data


@dataclass
class Answer:
    intent: Intent
    lines: list[Line] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)
    proposal: Proposal | None = None
    # The window a tool looked at when none was understood ("today").
    window_used: str = ""

    def say(self, text: str, trace: ExecutionTrace | None = None, label: str = "") -> Answer:
        text = redact(text)  # errors and inputs quoted in answers carry no secrets
        if trace is None:
            self.lines.append(Line(text))
        else:
            self.lines.append(Line(text, trace.id, label or trace_label(trace)))
        return self

    @property
    def text(self) -> str:
        """For the terminal: each sentence, then the trace it cites."""
        return "\n".join(
            f"{line.text} [{line.label}: {line.trace_id}]" if line.trace_id else line.text
            for line in self.lines
        )

    def as_dict(self) -> dict[str, Any]:
        data = {
            "intent": self.intent,
            "args": self.args,
            "answer": [
                {"text": line.text, "trace_id": str(line.trace_id) if line.trace_id else None}
                for line in self.lines
            ],
        }
        if self.proposal is not None:
            data["proposal"] = self.proposal.as_dict()
        return data


def trace_label(trace: ExecutionTrace) -> str:
    return f"{trace.trace_type} {trace.name} at {format_time(trace.started_at)}"


def visible_traces(context: AskContext) -> ExecutionTraceQuerySet:
    return ExecutionTrace.objects.for_orgs(context.org_ids)


def runs_of(context: AskContext, target: NamedThing, window: Window | None) -> ExecutionTraceQuerySet:
    if window is None:
        return visible_traces(context).runs_of(target.subject)
    return visible_traces(context).runs_of(target.subject, window.start, window.end)


def window_or(plan: Plan, answer: Answer, default: Window) -> Window:
    """The window asked about, else `default` (which the answer then says it used)."""
    if plan.window is not None:
        return plan.window
    answer.window_used = default.label
    return default


def today(context: AskContext) -> Window:
    return parse_window("today", context.now)


def last_day(context: AskContext) -> Window:
    return Window(context.now - timedelta(days=1), context.now, "in the last 24 hours")


def last_week(context: AskContext) -> Window:
    return Window(context.now - timedelta(days=7), context.now, "in the last 7 days")


def one_line(trace: ExecutionTrace) -> str:
    """A run in a sentence: how it ended, or what it did."""
    description = describe(trace)
    if trace.status == TraceStatus.FAILED:
        return f"{description.title} {description.failure or 'failed: ' + trace.error_summary}"
    if trace.status == TraceStatus.SUCCEEDED and description.result:
        return description.result
    if trace.status == TraceStatus.RUNNING:
        return f"{description.title} has been running since {format_time(trace.started_at)}"
    return f"{description.title} {trace.status}"
