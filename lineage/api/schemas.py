"""What the API answers, as django-ninja schemas: the OpenAPI document at
/api/v1/openapi.json is derived from these, so it matches the responses."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema

from lineage.assistant.answers import Answer
from lineage.assistant.planner import MAX_QUESTION_LENGTH
from lineage.observability.explain import Explanation
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import Lineage


class Error(Schema):
    message: str


class Trace(Schema):
    id: uuid.UUID
    short_id: str
    trace_type: str
    status: str
    source: str
    name: str
    subject: str
    dependencies: list[uuid.UUID]
    started_at: datetime
    completed_at: datetime | None
    duration_seconds: float | None
    error_summary: str
    url: str

    @classmethod
    def of(cls, trace: ExecutionTrace, request: HttpRequest) -> Trace:
        return cls(
            id=trace.id,
            short_id=trace.short_id,
            trace_type=trace.trace_type,
            status=trace.status,
            source=trace.source,
            name=trace.name,
            subject=trace.subject,
            dependencies=list(trace.dependencies),
            started_at=trace.started_at,
            completed_at=trace.completed_at,
            duration_seconds=trace.duration.total_seconds() if trace.duration else None,
            error_summary=trace.error_summary,
            url=request.build_absolute_uri(reverse("web:trace-detail", args=[trace.id])),
        )


class TraceDetail(Trace):
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    error: str

    @classmethod
    def of(cls, trace: ExecutionTrace, request: HttpRequest) -> TraceDetail:
        summary = Trace.of(trace, request).model_dump()
        return cls(**summary, inputs=trace.inputs or {}, outputs=trace.outputs or {}, error=trace.error)


class TracePage(Schema):
    items: list[Trace]
    next_cursor: str | None = None


class LineageNode(Trace):
    depth: int  # negative: ancestors, 0: the trace asked about, positive: descendants


class LineageEdge(Schema):
    parent: uuid.UUID
    child: uuid.UUID


class TraceLineage(Schema):
    root_id: uuid.UUID
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    missing: list[uuid.UUID]

    @classmethod
    def of(cls, lineage: Lineage, request: HttpRequest) -> TraceLineage:
        return cls(
            root_id=lineage.root_id,
            nodes=[
                LineageNode(**Trace.of(trace, request).model_dump(), depth=lineage.depths[trace.id])
                for trace in lineage.ordered_nodes()
            ],
            edges=[LineageEdge(parent=p, child=c) for p, c in sorted(lineage.edges, key=str)],
            missing=sorted(lineage.missing),
        )


class ExplanationStep(Schema):
    trace_id: uuid.UUID
    trace_type: str
    name: str
    status: str
    sentence: str
    line: str
    is_subject: bool


class TraceExplanation(Schema):
    trace_id: uuid.UUID
    text: str
    steps: list[ExplanationStep]
    missing: list[uuid.UUID]

    @classmethod
    def of(cls, explanation: Explanation) -> TraceExplanation:
        return cls(
            trace_id=explanation.trace_id,
            text=explanation.text,
            steps=[
                ExplanationStep(
                    trace_id=step.trace_id,
                    trace_type=step.trace_type,
                    name=step.name,
                    status=step.status,
                    sentence=step.sentence,
                    line=step.line,
                    is_subject=step.is_subject,
                )
                for step in explanation.steps
            ],
            missing=explanation.missing,
        )


class Definition(Schema):
    kind: str
    id: int
    name: str
    subject: str


class Run(Trace):
    why: str


class DefinitionRuns(Schema):
    definition: Definition
    runs: list[Run]
    next_cursor: str | None = None


class FailureGroup(Schema):
    trace_type: str
    name: str
    failed_step: str | None
    failures: int
    latest: Trace


class Question(Schema):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_LENGTH)
    # Asked about this trace, as from the box on its page (“why did this run?”).
    trace_id: uuid.UUID | None = None


class AnswerLine(Schema):
    text: str
    trace_id: uuid.UUID | None


class Proposal(Schema):
    label: str
    subject: str


class AssistantAnswer(Schema):
    intent: str
    lines: list[AnswerLine]
    # A run the answer offers; the API never starts one (confirm it on the Ask page).
    proposal: Proposal | None = None

    @classmethod
    def of(cls, answer: Answer) -> AssistantAnswer:
        proposal = answer.proposal
        return cls(
            intent=answer.intent,
            lines=[AnswerLine(text=line.text, trace_id=line.trace_id) for line in answer.lines],
            proposal=Proposal(label=proposal.label, subject=proposal.subject) if proposal else None,
        )
