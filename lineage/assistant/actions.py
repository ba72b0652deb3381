"""Runs from chat: a run or a re-run offered (and started once the person
confirms it), and dry runs that start nothing."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from lineage.alerts.models import AlertRule
from lineage.assistant.intents import Intent
from lineage.assistant.names import NamedThing
from lineage.assistant.planner import AskContext, Plan
from lineage.assistant.replies import Answer, Proposal, one_line, visible_traces
from lineage.execution.preview import NOTHING_RECORDED, preview_metric
from lineage.execution.rerun import CannotRerun, rerun
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.formatting import format_number, format_time, quoted
from lineage.observability.ids import TraceNotFound, parse_trace_id
from lineage.observability.models import ExecutionTrace, TraceSource, TraceType
from lineage.observability.subjects import Subject
from lineage.observability.tracer import current_scope, trace_scope
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Workflow

NEEDS_EDITOR = "Running a metric or a workflow needs the editor role in this organization."
# A dry run of everything computes at most this many metrics.
MAX_PREVIEWED = 5


def _asker(context: AskContext) -> str:
    # Without a signed-in user (the ask command), whoever the surrounding scope names.
    return context.user.get_username() if context.user else current_scope().started_by


def run_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    if not context.can_run:
        return answer.say(NEEDS_EDITOR)
    target = plan.target
    if not context.confirmed:
        answer.proposal = Proposal(f"Run {target.name} now", target.subject)
        if target.kind == TraceType.METRIC:
            return answer.say(
                f"Run metric {quoted(target.name)} now? It computes a new value and evaluates "
                "its alerts, which may start their workflows."
            )
        steps = Workflow.objects.get(pk=target.pk).steps.count()
        return answer.say(f"Run workflow {quoted(target.name)} now? It runs its {_steps(steps)}.")
    with trace_scope(org=context.organization, source=TraceSource.CHAT, started_by=_asker(context)):
        if target.kind == TraceType.METRIC:
            trace_id = run_metric_execution(Metric.objects.get(pk=target.pk), source=TraceSource.CHAT).trace_id
        else:
            trace_id = run_workflow(Workflow.objects.get(pk=target.pk), source=TraceSource.CHAT).trace_id
    return _say_ran(trace_id, answer)


def _steps(count: int) -> str:
    return "1 step" if count == 1 else f"{count} steps"


def _say_ran(trace_id, answer: Answer) -> Answer:
    """The run just started and the runs it set off, a line each."""
    trace = ExecutionTrace.objects.filter(pk=trace_id).first()
    if trace is None:  # its trace could not be written: the run is told without it
        return answer.say("I started the run, but its trace was not recorded.")
    verb = f"I ran {trace.trace_type} {quoted(trace.name)}"
    if trace.trace_type == TraceType.METRIC and trace.status == "succeeded":
        answer.say(f"{verb}: it computed {format_number(trace.outputs.get('value'))}.", trace)
    else:
        answer.say(f"{verb}. {one_line(trace)}.", trace)
    for child in ExecutionTrace.objects.for_org(trace.org_id).children_of(trace.id):
        if child.trace_type != TraceType.STEP:
            answer.say(one_line(child) + ".", child)
    return answer


def rerun_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    if not context.can_run:
        return answer.say(NEEDS_EDITOR)
    failed, target = plan.trace, plan.target
    if not context.confirmed:
        when = format_time(failed.started_at)
        answer.proposal = Proposal(f"Re-run the {when} {target.name} run", target.subject, str(failed.id))
        answer.say(f"{one_line(failed)} (at {when}).", failed)
        return answer.say(
            f"Re-run it? The new run of {target.kind} {quoted(target.name)} is linked to this "
            "failed one, as the trace page's Re-run does."
        )
    scope = trace_scope(org=context.organization, source=TraceSource.CHAT, started_by=_asker(context))
    try:
        with scope:
            trace_id = rerun(failed, source=TraceSource.CHAT)
    except CannotRerun as reason:
        return answer.say(f"That run was not re-run: {reason}.")
    return _say_ran(trace_id, answer)


def confirmed_run(
    subject: str, rerun_of: str, context: AskContext, answer_plan: Callable[[Plan, AskContext], Answer]
) -> Answer:
    """Start the run a person confirmed: exactly the metric or workflow
    named (and, for a re-run, exactly the failed trace), if they are still
    the organization's."""
    parsed = Subject.parse(subject)
    definition = None
    if parsed is not None and parsed.kind in (TraceType.METRIC, TraceType.WORKFLOW) and context.organization:
        definition = parsed.definition(context.organization.pk)
    if definition is None:
        return Answer(Intent.RUN).say("That metric or workflow is not one of this organization's any more.")
    target = NamedThing(parsed.kind, definition.pk, definition.name, definition.enabled)
    confirmed = replace(context, confirmed=True)
    if not rerun_of:
        return answer_plan(Plan(Intent.RUN, target=target), confirmed)
    failed = visible_traces(context).filter(pk=_uuid_or_none(rerun_of), subject=subject).first()
    if failed is None:
        return Answer(Intent.RERUN).say("That failed run is not one of this organization's any more.")
    return answer_plan(Plan(Intent.RERUN, target=target, trace=failed), confirmed)


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return parse_trace_id(text)
    except TraceNotFound:
        return None


# --- Dry runs -------------------------------------------------------------------------


def preview_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    metrics = _metrics_to_preview(plan.target, context)
    if not metrics:
        return answer.say("No metric has an enabled alert, so nothing would fire.")
    for metric in metrics[:MAX_PREVIEWED]:
        for sentence in preview_metric(metric).sentences:
            answer.say(sentence)
    if len(metrics) > MAX_PREVIEWED:
        answer.say(
            f"… and {len(metrics) - MAX_PREVIEWED} more metrics with alerts: name one to see it "
            "(“what would Daily revenue fire now?”)."
        )
    return answer.say(NOTHING_RECORDED)


def _metrics_to_preview(target: NamedThing | None, context: AskContext) -> list[Metric]:
    """The metric named, the one an alert watches, those whose alerts start
    a workflow — or every enabled metric with an enabled alert."""
    metrics = Metric.objects.filter(organization=context.organization).order_by("name")
    if target is None:
        return list(metrics.filter(enabled=True, alert_rules__enabled=True).distinct())
    if target.kind == TraceType.METRIC:
        return list(metrics.filter(pk=target.pk))
    rules = AlertRule.objects.filter(organization=context.organization)
    if target.kind == TraceType.ALERT:
        rules = rules.filter(pk=target.pk)
    else:
        rules = rules.filter(workflows__pk=target.pk)
    return list(metrics.filter(pk__in=rules.values("metric_id")))
