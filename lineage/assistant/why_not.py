"""“Why didn't it run?” — answered from what happened in the window first.

The chain that should have ended in a run is walked backwards: the
workflow, the alerts that start it (evaluated? fired? started it?), the
metric each alert watches (ran? failed?), its schedule. Each link answers
from the traces in the window and cites the trace it reads. Today's
settings are told only when nothing in the window explains it, and a
setting that changed since the window is said to have ("it has since been
disabled"; "its threshold was 20,000 then, 10,000 now").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cronsim import CronSimError

from lineage.alerts.models import AlertRule
from lineage.assistant import changes
from lineage.assistant.names import NamedThing
from lineage.assistant.planner import AskContext, Plan
from lineage.assistant.replies import Answer, last_day, runs_of, window_or
from lineage.assistant.timephrases import Window
from lineage.metrics.describers import metric_error
from lineage.metrics.models import Metric
from lineage.metrics.schedules import SCHEDULER_GRACE, next_tick
from lineage.observability.formatting import (
    format_number,
    format_time,
    join_phrases,
    quoted,
    sentence_case,
)
from lineage.observability.formatting import times as _times
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType
from lineage.workflows.models import Workflow


@dataclass
class InWindow:
    """A definition's runs in the window, counted in one aggregate, with the
    latest run (and the latest that fired, or succeeded) fetched only when
    there is one: a week of five-minute runs costs three indexed queries."""

    total: int
    failed: int
    fired: int
    latest: ExecutionTrace | None
    latest_fired: ExecutionTrace | None = None
    latest_succeeded: ExecutionTrace | None = None

    @property
    def all_failed(self) -> bool:
        return self.total > 0 and self.failed == self.total


def _in_window(context: AskContext, thing: NamedThing, window: Window) -> InWindow:
    runs = runs_of(context, thing, window)
    counts = runs.outcome_counts()
    found = InWindow(counts["total"], counts["failed"], counts["fired"], runs.first() if counts["total"] else None)
    if counts["fired"]:
        found.latest_fired = runs.filter(outputs__fired=True).first()
    if counts["succeeded"] and found.latest and found.latest.status != TraceStatus.SUCCEEDED:
        found.latest_succeeded = runs.filter(status=TraceStatus.SUCCEEDED).first()
    else:
        found.latest_succeeded = found.latest if counts["succeeded"] else None
    return found


def why_not_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    window = window_or(plan, answer, last_day(context))
    reasons = {
        TraceType.WORKFLOW: _why_not_workflow,
        TraceType.ALERT: _why_not_alert,
        TraceType.METRIC: _why_not_metric,
    }
    reasons[plan.target.kind](plan.target, window, context, answer)
    return answer


def _thing(kind: str, definition) -> NamedThing:
    return NamedThing(kind, definition.pk, definition.name, definition.enabled)


def _ran_anyway(target: NamedThing, window: Window, context: AskContext, answer: Answer) -> bool:
    run = runs_of(context, target, window).first()
    if run is None:
        return False
    answer.say(
        f"{sentence_case(target.called)} did run {window.label}: the latest "
        f"run started at {format_time(run.started_at)} and {run.status}.",
        run,
    )
    return True


# --- Workflows ----------------------------------------------------------------------


def _why_not_workflow(target: NamedThing, window: Window, context: AskContext, answer: Answer) -> None:
    if _ran_anyway(target, window, context, answer):
        return
    workflow = Workflow.objects.get(pk=target.pk)
    rules = list(
        workflow.alert_rules.select_related("metric").prefetch_related("workflows").order_by("name")
    )
    name = quoted(workflow.name)
    if not rules:
        disabled = " It is disabled, too." if not workflow.enabled else ""
        answer.say(f"No alert starts workflow {name}; it runs only when started by hand.{disabled}")
        return
    answer.say(
        f"Workflow {name} did not run {window.label}. It is started by "
        + join_phrases(f"alert {quoted(rule.name)}" for rule in rules)
        + "."
    )
    found = {_why_rule_did_not_start(rule, workflow, window, context, answer) for rule in rules}
    if workflow.enabled or TOLD in found:
        return
    if found == {SETTING}:
        answer.say(f"Workflow {name} is disabled, so no alert starts it.")
    else:
        answer.say(f"Workflow {name} is disabled now, too.")


# What a link of the chain found: the window's history explains it, only a
# current setting does, or the history explains it and the workflow's own
# state was told with it.
HISTORY, SETTING, TOLD = "history", "setting", "told"


def _why_rule_did_not_start(
    rule: AlertRule, workflow: Workflow, window: Window, context: AskContext, answer: Answer
) -> str:
    """Why `rule` did not start `workflow` in the window (see HISTORY)."""
    evaluations = _in_window(context, _thing(TraceType.ALERT, rule), window)
    if not evaluations.fired:
        return _why_rule_did_not_fire(rule, window, context, answer, evaluations, also=workflow)
    latest = evaluations.latest_fired
    started = (latest.outputs or {}).get("workflows") or []
    name = quoted(workflow.name)
    if workflow.name in started:
        answer.say(
            f"Alert {quoted(rule.name)} fired {_times(evaluations.fired)} {window.label} and started "
            f"workflow {name}, but no run of it was recorded (it may have been pruned).",
            latest,
        )
        return HISTORY
    then = "it started none" if not started else "it started " + join_phrases(map(quoted, started))
    answer.say(
        f"Alert {quoted(rule.name)} fired {_times(evaluations.fired)} {window.label} (the latest at "
        f"{format_time(latest.started_at)}), but workflow {name} was not among the workflows it "
        f"started: {then}. Workflow {name} was disabled or not linked to it then"
        + (", and it is disabled now." if not workflow.enabled else "; it is enabled now."),
        latest,
    )
    return TOLD


# --- Alerts ---------------------------------------------------------------------------


def _why_not_alert(target: NamedThing, window: Window, context: AskContext, answer: Answer) -> None:
    rule = AlertRule.objects.select_related("metric").get(pk=target.pk)
    evaluations = _in_window(context, target, window)
    if evaluations.fired:
        answer.say(
            f"Alert {quoted(rule.name)} fired {_times(evaluations.fired)} {window.label}; the latest at "
            f"{format_time(evaluations.latest_fired.started_at)}.",
            evaluations.latest_fired,
        )
        return
    _why_rule_did_not_fire(rule, window, context, answer, evaluations)


def _why_rule_did_not_fire(
    rule: AlertRule,
    window: Window,
    context: AskContext,
    answer: Answer,
    evaluations: InWindow,
    also: Workflow | None = None,
) -> str:
    if evaluations.total:
        return _quiet_evaluations(rule, evaluations, window, answer, also)
    return _why_not_evaluated(rule, window, context, answer)


def _quiet_evaluations(
    rule: AlertRule, evaluations: InWindow, window: Window, answer: Answer, also: Workflow | None
) -> str:
    latest = evaluations.latest
    inputs, outputs = latest.inputs or {}, latest.outputs or {}
    said = f"Alert {quoted(rule.name)} was evaluated {_times(evaluations.total)} {window.label} and never fired"
    if latest.status == TraceStatus.FAILED:
        said += f"; the latest evaluation, at {format_time(latest.started_at)}, failed: {latest.error_summary}"
    else:
        margin = outputs.get("margin")
        short = f", short by {format_number(abs(margin))}" if margin else ""
        said += (
            f": the latest, at {format_time(latest.started_at)}, compared value "
            f"{format_number(inputs.get('value'))} {inputs.get('operator')} threshold "
            f"{format_number(inputs.get('threshold'))}, which is false{short}"
        )
    answer.say(said + ".", latest)
    return _changed_since(latest, rule, answer, also)


def _changed_since(
    trace: ExecutionTrace, definition: AlertRule | Metric, answer: Answer, also: Workflow | None = None
) -> str:
    """Settings that changed since `trace`'s run, in one sentence (see HISTORY)."""
    now = changes.current(_thing(trace.trace_type, definition), definition)
    said = [change.since for change in changes.changes(changes.recorded(trace), now)]
    told = also is not None and not also.enabled and also.name in ((trace.inputs or {}).get("workflows") or [])
    if told:
        said.append(f"workflow {quoted(also.name)} has since been disabled")
    if said:
        answer.say(f"{sentence_case(join_phrases(said))}.")
    return TOLD if told else HISTORY


def _why_not_evaluated(rule: AlertRule, window: Window, context: AskContext, answer: Answer) -> str:
    """No evaluation in the window: the metric it watches tells why."""
    metric = _thing(TraceType.METRIC, rule.metric)
    runs = _in_window(context, metric, window)
    name = quoted(rule.name)
    if runs.all_failed:
        answer.say(f"Alert {name} was not evaluated {window.label}, because:")
        _failed_runs(rule.metric, runs, window, answer)
        return HISTORY
    if runs.total:
        latest = runs.latest_succeeded or runs.latest
        state = "it is disabled now" if not rule.enabled else "it is enabled now"
        answer.say(
            f"Metric {quoted(metric.name)} ran {_times(runs.total)} {window.label} without "
            f"evaluating alert {name} (the latest at {format_time(latest.started_at)}): the alert "
            f"was disabled or did not exist then; {state}.",
            latest,
        )
        return HISTORY
    answer.say(f"Alert {name} was not evaluated {window.label}, because:")
    explained = _metric_did_not_run(rule.metric, window, context, answer)
    if not rule.enabled:
        answer.say(f"Alert {name} is disabled now, too, so it would not be evaluated anyway.")
    return explained


# --- Metrics ---------------------------------------------------------------------------


def _why_not_metric(target: NamedThing, window: Window, context: AskContext, answer: Answer) -> None:
    metric = Metric.objects.get(pk=target.pk)
    runs = _in_window(context, target, window)
    if runs.all_failed:
        _failed_runs(metric, runs, window, answer)
    elif runs.total:
        answer.say(
            f"Metric {quoted(metric.name)} did run {window.label} ({_times(runs.total)}); the latest "
            f"run started at {format_time(runs.latest.started_at)} and {runs.latest.status}.",
            runs.latest,
        )
    else:
        _metric_did_not_run(metric, window, context, answer)


def _failed_runs(metric: Metric, runs: InWindow, window: Window, answer: Answer) -> None:
    latest = runs.latest
    every = "and failed" if runs.total == 1 else "and failed every time"
    answer.say(
        f"Metric {quoted(metric.name)} ran {_times(runs.total)} {window.label} {every}, so its "
        f"alerts were not evaluated. The latest run, at {format_time(latest.started_at)}: "
        f"{metric_error(latest)}.",
        latest,
    )
    _changed_since(latest, metric, answer)


def _metric_did_not_run(metric: Metric, window: Window, context: AskContext, answer: Answer) -> str:
    """Why a metric did not run in the window (see HISTORY)."""
    last = runs_of(context, _thing(TraceType.METRIC, metric), None).first()
    name = quoted(metric.name)
    if not metric.enabled:
        answer.say(f"Metric {name} is disabled, so it did not run {window.label}.")
        explained = SETTING
    else:
        reason, explained = _schedule_reason(metric, window, context.now)
        answer.say(reason)
    if last is None:
        answer.say(f"Metric {name} has never run.")
    else:
        answer.say(f"It last ran at {format_time(last.started_at)}.", last)
    return explained


def _schedule_reason(metric: Metric, window: Window, now) -> tuple[str, str]:
    """Whether the schedule owed a run in the window: a missed tick points at
    the scheduler; no tick means it simply was not due."""
    name = quoted(metric.name)
    if not metric.schedule:
        return f"Metric {name} has no schedule, so it runs only when started by hand or from chat.", SETTING
    if metric.created_at >= window.end:
        return f"Metric {name} did not exist yet: it was created at {format_time(metric.created_at)}.", HISTORY
    # Ticks before the metric existed were never owed.
    owed_from = max(window.start, metric.created_at)
    try:
        due = next_tick(metric.schedule, owed_from - timedelta(microseconds=1))
    except CronSimError:  # saved around the form's validation
        return f"Metric {name} has a schedule that is not valid cron: {metric.schedule}.", SETTING
    if due >= window.end:
        return (
            f"Metric {name} was not due {window.label}: its schedule ({metric.schedule}) next "
            f"fires at {format_time(due)}.",
            HISTORY,
        )
    if due > now - SCHEDULER_GRACE:
        return (
            f"Metric {name} is due at {format_time(due)} ({metric.schedule}); run_scheduler runs "
            "once a minute, so that run has not started yet.",
            HISTORY,
        )
    return (
        f"Metric {name} did not run {window.label}, although its schedule ({metric.schedule}) made "
        f"it due at {format_time(due)} — a missed schedule: check that run_scheduler is in cron.",
        HISTORY,
    )
