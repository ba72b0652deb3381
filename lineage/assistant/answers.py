"""Carrying out a plan: each intent's tool reads the traces and answers in
sentences, each citing the trace it is about. Answers say only what the
traces say."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from cronsim import CronSimError
from django.conf import settings

from lineage.alerts.models import AlertRule
from lineage.assistant.intents import Intent
from lineage.assistant.llm import plan_with_llm
from lineage.assistant.planner import AskContext, NamedThing, Plan, complete_plan, plan
from lineage.assistant.timephrases import Window, parse_window
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.metrics.schedules import next_tick
from lineage.observability.explain import describe, generate_explanation
from lineage.observability.formatting import format_number, format_time, join_phrases
from lineage.observability.formatting import times as _times
from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType
from lineage.observability.store import DEFAULT_LINEAGE_DEPTH, get_trace_lineage
from lineage.observability.subjects import Subject
from lineage.observability.tracer import current_scope, trace_scope
from lineage.workflows.models import Workflow

MAX_LISTED = 15


@dataclass
class Line:
    text: str
    trace_id: uuid.UUID | None = None
    label: str = ""


@dataclass(frozen=True)
class Proposal:
    """A run an answer offers. Nothing runs until the person confirms it
    (a button), which asks for exactly this definition's run."""

    label: str  # “Run Daily revenue now”
    subject: str  # what to run, “metric:3”


@dataclass
class Answer:
    intent: Intent
    lines: list[Line] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)
    proposal: Proposal | None = None

    def say(self, text: str, trace: ExecutionTrace | None = None, label: str = "") -> Answer:
        if trace is None:
            self.lines.append(Line(text))
        else:
            self.lines.append(Line(text, trace.id, label or _label(trace)))
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
            data["proposal"] = {"label": self.proposal.label, "subject": self.proposal.subject}
        return data


def _label(trace: ExecutionTrace) -> str:
    return f"{trace.trace_type} {trace.name} at {format_time(trace.started_at)}"


EXAMPLES = [
    "Why did Notify on-call run this morning?",
    "Why didn't Notify on-call run in the last hour?",
    "What failed today?",
    "What did the last Daily revenue run trigger?",
    "Explain the last Page ops run",
    "Run Daily revenue now",
]


def answer_question(message: str, context: AskContext) -> Answer:
    """Plan (with the language model when one is configured) and carry out.
    Raises QuestionError for an empty or over-long question."""
    if settings.LINEAGE_LLM_URL and settings.LINEAGE_LLM_MODEL:
        return answer_plan(plan_with_llm(message, context), context)
    return answer_plan(plan(message, context), context)


def answer_plan(question_plan: Plan, context: AskContext) -> Answer:
    """Carry out a plan with the tool for its intent. Whichever planner made
    it, it is completed first: complete, or asking back."""
    question_plan = complete_plan(question_plan, context)
    answer = Answer(question_plan.intent, args=question_plan.args)
    if question_plan.clarification:
        return answer.say(question_plan.clarification)
    return TOOLS[question_plan.intent](question_plan, context, answer)


def answer_confirmed_run(subject: str, context: AskContext) -> Answer:
    """Start the run a person confirmed (see Proposal): exactly the metric
    named, if it is still one of the organization's."""
    parsed = Subject.parse(subject)
    metric = None
    if parsed is not None and parsed.kind == TraceType.METRIC and context.organization:
        metric = parsed.definition(context.organization.pk)
    if metric is None:
        return Answer(Intent.RUN_METRIC).say("That metric is not one of this organization's any more.")
    target = NamedThing(TraceType.METRIC, metric.pk, metric.name)
    return answer_plan(Plan(Intent.RUN_METRIC, target=target), replace(context, confirmed=True))


def help_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    answer.say(
        "I answer questions about runs from their traces: why something ran, why it did "
        "not, what failed, what a run triggered — and I can run a metric for you."
    )
    for example in EXAMPLES:
        answer.say(f"“{example}”")
    answer.say(
        "Times I understand: today, this morning, yesterday, in the last 3 hours, since Monday, "
        "at 10:05, between 9 and 11, on 2026-11-27, since 2026-11-20 — in your time zone."
    )
    return answer


def _runs_of(context: AskContext, target: NamedThing, window: Window | None):
    traces = ExecutionTrace.objects.for_orgs(context.org_ids)
    if window is None:
        return traces.runs_of(target.subject)
    return traces.runs_of(target.subject, window.start, window.end)


def _run_asked_about(plan: Plan, context: AskContext, answer: Answer) -> ExecutionTrace | None:
    """The trace a question is about: given, or the named thing's latest run."""
    if plan.trace is not None:
        return plan.trace
    run = _runs_of(context, plan.target, plan.window).first()
    if run is None:
        when = f" {plan.window.label}" if plan.window else ""
        answer.say(f"{plan.target.kind.title()} {plan.target.name} did not run{when}.")
        last = _runs_of(context, plan.target, None).first()
        if last is not None:
            answer.say(f"Its last run started at {format_time(last.started_at)}.", last)
        if plan.target.kind != TraceType.METRIC:
            answer.say(f"Ask “why didn't {plan.target.name} run{when}?” to find out why.")
    return run


def explain_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    run = _run_asked_about(plan, context, answer)
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
    run = _run_asked_about(plan, context, answer)
    if run is None:
        return answer
    lineage = get_trace_lineage(run.id, direction="down", depth=DEFAULT_LINEAGE_DEPTH)
    descendants = [t for t in lineage.ordered_nodes() if t.id != run.id]
    if not descendants:
        return answer.say(f"{describe(run).title} ({format_time(run.started_at)}) triggered nothing.", run)
    answer.say(f"{describe(run).title} ({format_time(run.started_at)}) triggered {len(descendants)} run(s):", run)
    for trace in descendants[:MAX_LISTED]:
        answer.say(f"{'  ' * (lineage.depths[trace.id] - 1)}{_one_line(trace)}", trace)
    if len(descendants) > MAX_LISTED:
        answer.say(f"… and {len(descendants) - MAX_LISTED} more.")
    return answer


def _one_line(trace: ExecutionTrace) -> str:
    description = describe(trace)
    if trace.status == TraceStatus.FAILED:
        return f"{description.title} {description.failure or 'failed: ' + trace.error_summary}"
    if description.result:
        return description.result
    return f"{description.title} {trace.status}"


def failures_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    window = plan.window or _today(context)
    traces = ExecutionTrace.objects.for_orgs(context.org_ids).started_between(window.start, window.end)
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
        answer.say(f"{_one_line(trace)} (at {format_time(trace.started_at)}).", trace)
    return answer


def _today(context: AskContext) -> Window:
    return parse_window("today", context.now)


def run_metric_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    if not context.can_run:
        return answer.say("Running a metric needs the editor role in this organization.")
    metric = Metric.objects.get(pk=plan.target.pk)
    if not context.confirmed:
        answer.proposal = Proposal(f"Run {metric.name} now", metric.subject)
        return answer.say(
            f"Run metric {metric.name} now? It computes a new value and evaluates its alerts, "
            "which may start their workflows."
        )
    # Without a signed-in user (the ask command), whoever the surrounding scope names.
    asker = context.user.get_username() if context.user else current_scope().started_by
    with trace_scope(org=metric.organization, source=TraceSource.CHAT, started_by=asker):
        run = run_metric_execution(metric, source=TraceSource.CHAT)
    trace = ExecutionTrace.objects.get(pk=run.trace_id)
    if not run.succeeded:
        return answer.say(f"I ran {metric.name}; it failed: {run.error}", trace)
    answer.say(f"I ran {metric.name}: it computed {format_number(run.value)}.", trace)
    for outcome in run.alerts:
        alert_trace = ExecutionTrace.objects.get(pk=outcome.trace_id)
        answer.say(_one_line(alert_trace) + ".", alert_trace)
    return answer


# --- Why not -------------------------------------------------------------------
#
# The chain that should have ended in a run is walked backwards: the workflow
# (disabled?), the alerts that start it (disabled? evaluated? fired?), the
# metric each alert watches (ran? failed? disabled? due at all?). Each step
# answers from the traces in the window and links the trace it cites.

# A tick this recent may simply not have been claimed yet: run_scheduler
# runs once a minute.
SCHEDULER_GRACE = timedelta(minutes=2)
MAX_READ = 200


def why_not_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    window = plan.window or _last_day(context)
    reasons = {
        TraceType.WORKFLOW: _why_not_workflow,
        TraceType.ALERT: _why_not_alert,
        TraceType.METRIC: _why_not_metric,
    }
    return reasons[plan.target.kind](plan.target, window, context, answer)


def _last_day(context: AskContext) -> Window:
    return Window(context.now - timedelta(days=1), context.now, "in the last 24 hours")


def _ran_anyway(target: NamedThing, window: Window, context: AskContext, answer: Answer) -> bool:
    run = _runs_of(context, target, window).first()
    if run is None:
        return False
    answer.say(
        f"{target.kind.title()} {target.name} did run {window.label}: the latest run started "
        f"{format_time(run.started_at)} and {run.status}.",
        run,
    )
    return True


def _why_not_workflow(target, window, context, answer) -> Answer:
    if _ran_anyway(target, window, context, answer):
        return answer
    workflow = Workflow.objects.get(pk=target.pk)
    if not workflow.enabled:
        return answer.say(f"Workflow {workflow.name} is disabled, so nothing starts it.")
    rules = list(workflow.alert_rules.select_related("metric").order_by("name"))
    if not rules:
        return answer.say(
            f"No alert starts workflow {workflow.name}; it runs only when started by hand."
        )
    answer.say(f"Workflow {workflow.name} did not run {window.label}. It is started by "
               + join_phrases(f"alert {rule.name}" for rule in rules) + ".")
    for rule in rules:
        _why_rule_did_not_fire(rule, window, context, answer)
    return answer


def _why_not_alert(target, window, context, answer) -> Answer:
    rule = AlertRule.objects.select_related("metric").get(pk=target.pk)
    return _why_rule_did_not_fire(rule, window, context, answer)


def _why_rule_did_not_fire(rule: AlertRule, window: Window, context, answer: Answer) -> Answer:
    if not rule.enabled:
        return answer.say(f"Alert {rule.name} is disabled, so it is never evaluated.")
    target = NamedThing(TraceType.ALERT, rule.pk, rule.name)
    evaluations = list(_runs_of(context, target, window)[:MAX_READ])
    fired = [e for e in evaluations if (e.outputs or {}).get("fired")]
    if fired:
        return answer.say(
            f"Alert {rule.name} fired {_times(len(fired))} {window.label}; the latest at "
            f"{format_time(fired[0].started_at)}.",
            fired[0],
        )
    if evaluations:
        return _quiet_evaluations(rule, evaluations, window, answer)
    return _why_not_evaluated(rule, window, context, answer)


def _quiet_evaluations(rule: AlertRule, evaluations, window: Window, answer: Answer) -> Answer:
    latest = evaluations[0]
    inputs, outputs = latest.inputs or {}, latest.outputs or {}
    answer.say(
        f"Alert {rule.name} was evaluated {_times(len(evaluations))} {window.label} and never fired."
    )
    if latest.status == TraceStatus.FAILED:
        return answer.say(
            f"Its latest evaluation, at {format_time(latest.started_at)}, failed: "
            f"{latest.error_summary}",
            latest,
        )
    margin = outputs.get("margin")
    short = f", short by {format_number(abs(margin))}" if margin else ""
    return answer.say(
        f"The latest evaluation, at {format_time(latest.started_at)}: value "
        f"{format_number(inputs.get('value'))} {inputs.get('operator')} threshold "
        f"{format_number(inputs.get('threshold'))} was false{short}.",
        latest,
    )


def _why_not_evaluated(rule: AlertRule, window: Window, context, answer: Answer) -> Answer:
    """No evaluation in the window: the metric it watches tells why."""
    metric = NamedThing(TraceType.METRIC, rule.metric_id, rule.metric.name)
    runs = list(_runs_of(context, metric, window)[:MAX_READ])
    if runs and all(run.status == TraceStatus.FAILED for run in runs):
        answer.say(f"Alert {rule.name} was not evaluated {window.label}, because:")
        return _failed_runs(rule.metric, runs, window, answer)
    if runs:
        return answer.say(
            f"Alert {rule.name} has no evaluation {window.label}, although metric "
            f"{metric.name} ran {_times(len(runs))}; its latest run {runs[0].status}.",
            runs[0],
        )
    answer.say(f"Alert {rule.name} was not evaluated {window.label}, because:")
    return _metric_did_not_run(rule.metric, window, context, answer)


def _why_not_metric(target, window, context, answer) -> Answer:
    metric = Metric.objects.get(pk=target.pk)
    runs = list(_runs_of(context, target, window)[:MAX_READ])
    if runs and all(run.status == TraceStatus.FAILED for run in runs):
        return _failed_runs(metric, runs, window, answer)
    if runs:
        return answer.say(
            f"Metric {metric.name} did run {window.label} ({_times(len(runs))}); the latest run "
            f"started {format_time(runs[0].started_at)} and {runs[0].status}.",
            runs[0],
        )
    return _metric_did_not_run(metric, window, context, answer)


def _failed_runs(metric: Metric, runs, window: Window, answer: Answer) -> Answer:
    return answer.say(
        f"Metric {metric.name} ran {_times(len(runs))} {window.label} and failed every time, "
        f"so its alerts were not evaluated. The latest error: {runs[0].error_summary}",
        runs[0],
    )


def _metric_did_not_run(metric: Metric, window: Window, context, answer: Answer) -> Answer:
    if not metric.enabled:
        return answer.say(f"Metric {metric.name} is disabled, so it did not run.")
    last = _runs_of(context, NamedThing(TraceType.METRIC, metric.pk, metric.name), None).first()
    answer.say(_schedule_reason(metric, window, context.now))
    if last is None:
        return answer.say(f"Metric {metric.name} has never run.")
    return answer.say(f"It last ran at {format_time(last.started_at)}.", last)


def _schedule_reason(metric: Metric, window: Window, now) -> str:
    """Whether the schedule owed a run in the window: a missed tick points at
    the scheduler; no tick means it simply was not due."""
    if not metric.schedule:
        return (
            f"Metric {metric.name} has no schedule, so it runs only when started by hand "
            "or from chat."
        )
    if metric.created_at >= window.end:
        return f"Metric {metric.name} did not exist yet: it was created at {format_time(metric.created_at)}."
    # Ticks before the metric existed were never owed.
    owed_from = max(window.start, metric.created_at)
    try:
        due = next_tick(metric.schedule, owed_from - timedelta(microseconds=1))
    except CronSimError:  # saved around the form's validation
        return f"Metric {metric.name} has a schedule that is not valid cron: {metric.schedule}."
    if due >= window.end:
        return (
            f"Metric {metric.name} was not due {window.label}: its schedule ({metric.schedule}) "
            f"next fires at {format_time(due)}."
        )
    if due > now - SCHEDULER_GRACE:
        return (
            f"Metric {metric.name} is due at {format_time(due)} ({metric.schedule}); "
            "run_scheduler runs once a minute, so that run has not started yet."
        )
    return (
        f"Metric {metric.name} did not run {window.label}, although its schedule "
        f"({metric.schedule}) made it due at {format_time(due)} — a missed schedule: "
        "check that run_scheduler is in cron."
    )


Tool = Callable[[Plan, AskContext, Answer], Answer]
TOOLS: dict[Intent, Tool] = {
    Intent.HELP: help_tool,
    Intent.EXPLAIN: explain_tool,
    Intent.IMPACT: impact_tool,
    Intent.FAILURES: failures_tool,
    Intent.RUN_METRIC: run_metric_tool,
    Intent.WHY_NOT: why_not_tool,
}
