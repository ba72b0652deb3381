"""Why a run happened, what it triggered, and what failed."""
from __future__ import annotations

from lineage.assistant.planner import AskContext, Plan
from lineage.assistant.replies import (
    MAX_LISTED,
    Answer,
    one_line,
    runs_of,
    today,
    visible_traces,
    window_or,
)
from lineage.observability.explain import describe, generate_explanation
from lineage.observability.formatting import format_time, sentence_case
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType
from lineage.observability.store import DEFAULT_LINEAGE_DEPTH, get_trace_lineage


def run_asked_about(plan: Plan, context: AskContext, answer: Answer) -> ExecutionTrace | None:
    """The trace a question is about: given, or the named thing's latest run
    (in the window, and with the outcome asked about: “why did X fail”)."""
    if plan.trace is not None:
        return plan.trace
    runs = runs_of(context, plan.target, plan.window)
    run = None
    if plan.outcome == "failed":
        run = runs.filter(status=TraceStatus.FAILED).first()
    elif plan.outcome == "fired" and plan.target.kind == TraceType.ALERT:
        run = runs.filter(outputs__fired=True).first()
    run = run or runs.first()
    if run is None:
        when = f" {plan.window.label}" if plan.window else ""
        answer.say(f"{sentence_case(plan.target.called)} did not run{when}.")
        last = runs_of(context, plan.target, None).first()
        if last is not None:
            answer.say(f"Its last run started at {format_time(last.started_at)}.", last)
        if plan.target.kind != TraceType.METRIC:
            answer.say(f"Ask “why didn't {plan.target.name} run{when}?” to find out why.")
    return run


def explain_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    run = run_asked_about(plan, context, answer)
    if run is None:
        return answer
    explanation = generate_explanation(run.id)
    by_id = {step.trace_id: step for step in explanation.steps}
    for sentence_step in reversed(explanation.steps):
        if sentence_step.sentence:
            answer.say(sentence_step.sentence, sentence_step.trace)
    for missing in explanation.missing:
        answer.say(f"Trace {missing} is named as a cause but no longer exists.")
    if run.id not in by_id:
        answer.say("I could not read that trace's ancestry.", run)
    return answer


def impact_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    run = run_asked_about(plan, context, answer)
    if run is None:
        return answer
    lineage = get_trace_lineage(run.id, direction="down", depth=DEFAULT_LINEAGE_DEPTH)
    descendants = [t for t in lineage.ordered_nodes() if t.id != run.id]
    title = f"{describe(run).title} ({format_time(run.started_at)})"
    if not descendants:
        return answer.say(f"{title} triggered nothing.", run)
    count = f"{len(descendants)} run" + ("s" if len(descendants) != 1 else "")
    answer.say(f"{title} triggered {count}:", run)
    for trace in descendants[:MAX_LISTED]:
        answer.say(f"{'  ' * (lineage.depths[trace.id] - 1)}{one_line(trace)}", trace)
    if len(descendants) > MAX_LISTED:
        answer.say(f"… and {len(descendants) - MAX_LISTED} more.")
    return answer


def failures_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    window = window_or(plan, answer, today(context))
    traces = visible_traces(context).started_between(window.start, window.end)
    if plan.trace_type:
        failed = traces.filter(status=TraceStatus.FAILED, trace_type=plan.trace_type)
    else:
        failed = traces.failed_runs()  # a step's failure is told with its workflow
    rows = list(failed.newest_first()[: MAX_LISTED + 1])
    noun = plan.trace_type or "run"
    if not rows:
        return answer.say(f"No {noun}s failed {window.label}.")
    if len(rows) > MAX_LISTED:
        answer.say(f"More than {MAX_LISTED} {noun}s failed {window.label}; the latest:")
    else:
        answer.say(f"{len(rows)} {noun}{'s' if len(rows) != 1 else ''} failed {window.label}:")
    for trace in rows[:MAX_LISTED]:
        answer.say(f"{one_line(trace)} (at {format_time(trace.started_at)}).", trace)
    return answer
