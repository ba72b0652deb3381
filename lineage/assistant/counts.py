"""How many, how healthy, when last, what is running, which alerts fired:
answers about a definition's (or everything's) runs taken together, each
with its number and the pattern behind it ("failed 4 times this week,
always at step 1 “Page the ops channel”: Connection refused")."""
from __future__ import annotations

import uuid
from typing import Any

from lineage.alerts.models import AlertRule
from lineage.assistant.names import NamedThing
from lineage.assistant.planner import AskContext, Plan
from lineage.assistant.replies import (
    MAX_LISTED,
    Answer,
    Line,
    last_week,
    one_line,
    runs_of,
    today,
    visible_traces,
    window_or,
)
from lineage.metrics.describers import metric_error_text
from lineage.observability.explain import describe
from lineage.observability.formatting import (
    format_number,
    format_time,
    join_phrases,
    quoted,
    sentence_case,
    times,
)
from lineage.observability.history import History, history_of
from lineage.observability.models import (
    ExecutionTrace,
    ExecutionTraceQuerySet,
    TraceStatus,
    TraceType,
)
from lineage.workflows.describers import step_failure_cause

MAX_PATTERNS = 3


def _who(plan: Plan) -> str:
    return sentence_case(plan.target.called) if plan.target else "Runs"


def _cite(answer: Answer, text: str, trace_id: Any, label: str) -> None:
    answer.lines.append(Line(text, uuid.UUID(str(trace_id)) if trace_id else None, label if trace_id else ""))


# --- How many ------------------------------------------------------------------------


def count_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    window = window_or(plan, answer, last_week(context))
    traces = visible_traces(context).started_between(window.start, window.end)
    if plan.target is not None:
        traces = traces.of_subject(plan.target.subject)
    elif plan.trace_type:
        traces = traces.filter(trace_type=plan.trace_type)
    else:
        traces = traces.exclude(trace_type=TraceType.STEP)  # a step's run is its workflow's
    counts = traces.outcome_counts()
    outcome = plan.outcome or "ran"
    if outcome == "failed":
        return _count_failures(plan, traces, counts, window.label, answer)
    return answer.say(_count_sentence(plan, outcome, counts, window.label))


def _noun(plan: Plan) -> str:
    return "evaluations" if plan.target and plan.target.kind == TraceType.ALERT else "runs"


def _count_sentence(plan: Plan, outcome: str, counts: dict[str, Any], when: str) -> str:
    who, total, noun = _who(plan), counts["total"], _noun(plan)
    if outcome in ("fired", "quiet"):
        number = counts["fired"] if outcome == "fired" else total - counts["fired"]
        verb = "fired" if outcome == "fired" else "did not fire"
        return f"{who} {verb} {times(number)} {when}, out of {format_number(total)} {noun}."
    if outcome == "succeeded":
        return f"{who} succeeded {times(counts['succeeded'])} {when}, out of {format_number(total)} {noun}."
    if plan.target is None:
        return f"{format_number(total)} runs started {when}: " + _split(counts) + "."
    if not total:
        return f"{who} did not run {when}."
    return f"{who} ran {times(total)} {when}: {_split(counts)}."


def _split(counts: dict[str, Any]) -> str:
    parts = [f"{format_number(counts['succeeded'])} succeeded", f"{format_number(counts['failed'])} failed"]
    if counts["running"]:
        parts.append(f"{format_number(counts['running'])} still running")
    return join_phrases(parts)


def _count_failures(
    plan: Plan, traces: ExecutionTraceQuerySet, counts: dict[str, Any], when: str, answer: Answer
) -> Answer:
    who, failed = _who(plan), counts["failed"]
    if not failed:
        ran = f" (it ran {times(counts['total'])})" if plan.target and counts["total"] else ""
        return answer.say(f"{who} did not fail {when}{ran}." if plan.target else f"Nothing failed {when}.")
    patterns = traces.failure_patterns()
    subject = f"{who} failed {times(failed)}" if plan.target else f"{format_number(failed)} runs failed"
    out_of = f" out of {format_number(counts['total'])} {_noun(plan)}" if counts["total"] > failed else ""
    _cite(answer, f"{subject} {when}{out_of}, {_pattern_phrase(patterns, plan.target is None)}.",
          max(p["latest_id"] for p in patterns), "the latest failure")
    return answer


def _pattern_phrase(patterns: list[dict[str, Any]], named_each: bool) -> str:
    """“always at step 1 “X” (webhook): Connection refused”, or the ways it
    failed, most frequent first."""
    if len(patterns) == 1:
        always = "always " if patterns[0]["count"] > 1 else ""
        return always + _where_why(patterns[0], named_each)
    shown = [f"{times(p['count'])} {_where_why(p, named_each)}" for p in patterns[:MAX_PATTERNS]]
    others = sum(p["count"] for p in patterns[MAX_PATTERNS:])
    if others:
        shown.append(f"{times(others)} in {len(patterns) - MAX_PATTERNS} other ways")
    return join_phrases(shown)


def _where_why(pattern: dict[str, Any], named_each: bool) -> str:
    reason = pattern["reason"] or "no error recorded"
    what = f"{pattern['trace_type']} {quoted(pattern['name'])} " if named_each else ""
    if pattern["step_position"]:
        return (
            f"{what}at step {pattern['step_position']} {quoted(pattern['step_name'])} "
            f"({pattern['step_kind']}): {step_failure_cause(reason)}"
        )
    if pattern["trace_type"] == TraceType.METRIC:
        return f"{what}with: {metric_error_text(reason)}"
    return f"{what}with: {reason}"


# --- Healthy or broken --------------------------------------------------------------


def health_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    """From the same history the pages show (the last 200 outcomes, one
    query): failing since when and how many in a row, or how often it failed."""
    target = plan.target
    history = history_of(visible_traces(context), target.subject)
    who = sentence_case(target.called)
    if not history.outcomes:
        answer.say(f"{who} has never run.")
    elif history.is_failing:
        _say_failing(context, target, history, answer)
    else:
        _say_working(context, target, history, answer)
    if not target.enabled:
        answer.say("It is disabled.")
    return answer


def _trace(context: AskContext, trace_id: uuid.UUID) -> ExecutionTrace | None:
    return visible_traces(context).filter(pk=trace_id).first()


def _say_failing(context: AskContext, target: NamedThing, history: History, answer: Answer) -> None:
    who, streak = sentence_case(target.called), history.failing_streak
    latest = _trace(context, streak[0][2])
    failure = describe(latest).failure or f"failed: {latest.error_summary}"
    if len(streak) == 1:
        said = f"its last run, at {format_time(latest.started_at)}, {failure}"
    else:
        more = "+" if history.streak_is_longer else ""
        said = (
            f"its last {len(streak)}{more} runs failed, since {format_time(history.failing_since)}; "
            f"the latest, at {format_time(latest.started_at)}, {failure}"
        )
    answer.say(f"{who} is broken: {said}.", latest)
    if history.last_success is not None:
        answer.say(f"It last succeeded at {format_time(history.last_success)}.")
    elif history.streak_is_longer:
        answer.say(f"It has not succeeded in its last {history.looked_back} runs.")
    else:
        answer.say("It has never succeeded.")


def _say_working(context: AskContext, target: NamedThing, history: History, answer: Answer) -> None:
    who = sentence_case(target.called)
    latest = _trace(context, history.outcomes[0][2])
    if latest.status in (TraceStatus.RUNNING, TraceStatus.PENDING):
        answer.say(f"{who} is running now: {one_line(latest)}.", latest)
    finished = history.finished
    failed = [o for o in history.outcomes if o[0] == TraceStatus.FAILED]
    if not failed:
        if finished:
            answer.say(f"{who} is healthy: its last {_runs(finished)} succeeded.")
        return
    last_failure = _trace(context, failed[0][2])
    answer.say(
        f"{who} is working, but not always: its latest finished run succeeded, and "
        f"{len(failed)} of its last {_runs(finished)} failed — the latest failure at "
        f"{format_time(last_failure.started_at)}: {one_line(last_failure)}.",
        last_failure,
    )


def _runs(count: int) -> str:
    return "run" if count == 1 else f"{format_number(count)} runs"


# --- When last ------------------------------------------------------------------------


def last_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    target, outcome = plan.target, plan.outcome or "succeeded"
    runs = runs_of(context, target, None)
    who = sentence_case(target.called)
    if outcome == "failed":
        found, verb = runs.filter(status=TraceStatus.FAILED).first(), "failed"
    elif outcome == "fired" and target.kind == TraceType.ALERT:
        found, verb = runs.filter(outputs__fired=True).first(), "fired"
    elif outcome == "ran":
        found, verb = runs.first(), "ran"
    else:
        found, verb = runs.filter(status=TraceStatus.SUCCEEDED).first(), "succeeded"
    if found is None:
        return answer.say(f"{who} has never {verb}.")
    answer.say(f"{who} last {verb} at {format_time(found.started_at)}: {one_line(found)}.", found)
    if verb == "succeeded":
        failures = runs.filter(status=TraceStatus.FAILED, started_at__gt=found.started_at).count()
        if failures:
            answer.say(f"It has failed {times(failures)} since.")
    return answer


# --- What is running ------------------------------------------------------------------


def running_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    going = visible_traces(context).running_now()
    if plan.target is not None:
        going = going.of_subject(plan.target.subject)
    rows = list(going[: MAX_LISTED + 1])
    if not rows:
        if plan.target is None:
            return answer.say("Nothing is running now.")
        last = runs_of(context, plan.target, None).first()
        ended = f"; its last run started at {format_time(last.started_at)} and {last.status}" if last else ""
        return answer.say(f"{sentence_case(plan.target.called)} is not running now{ended}.", last)
    noun = "run is" if len(rows) == 1 else "runs are"
    answer.say(f"{'More than ' + str(MAX_LISTED) if len(rows) > MAX_LISTED else len(rows)} {noun} going now:")
    for trace in rows[:MAX_LISTED]:
        answer.say(f"{one_line(trace)}.", trace)
    return answer


# --- Which alerts fired ---------------------------------------------------------------


def alerts_tool(plan: Plan, context: AskContext, answer: Answer) -> Answer:
    window = window_or(plan, answer, today(context))
    outcomes = visible_traces(context).started_between(window.start, window.end).alert_outcomes()
    if plan.outcome == "quiet":
        return _quiet_alerts(outcomes, window.label, context, answer)
    fired = [row for row in outcomes if row["fired"]]
    if not fired:
        evaluated = sum(row["evaluations"] for row in outcomes)
        return answer.say(f"No alert fired {window.label} ({_evaluations(evaluated)}).")
    answer.say(f"{len(fired)} alert{'s' if len(fired) != 1 else ''} fired {window.label}:")
    for row in fired[:MAX_LISTED]:
        _cite(
            answer,
            f"Alert {quoted(row['name'])} fired {times(row['fired'])} out of "
            f"{_evaluations(row['evaluations'])}, the latest at {format_time(row['latest_fired'])}.",
            row["latest_fired_id"],
            f"alert {row['name']} at {format_time(row['latest_fired'])}",
        )
    return answer


def _evaluations(count: int) -> str:
    return "one evaluation" if count == 1 else f"{format_number(count)} evaluations"


def _quiet_alerts(outcomes, when: str, context: AskContext, answer: Answer) -> Answer:
    quiet = [row for row in outcomes if not row["fired"]]
    evaluated = {row["subject"] for row in outcomes}
    rules = AlertRule.objects.filter(organization=context.organization).order_by("name")
    unevaluated = [rule for rule in rules if rule.subject not in evaluated]
    if not quiet and not unevaluated:
        return answer.say(f"Every alert fired {when}.")
    for row in quiet[:MAX_LISTED]:
        _cite(
            answer,
            f"Alert {quoted(row['name'])} did not fire {when}: it was evaluated "
            f"{times(row['evaluations'])}" + (f" ({times(row['failed'])} failing)" if row["failed"] else "") + ".",
            row["latest_id"],
            f"alert {row['name']} at {format_time(row['latest'])}",
        )
    if unevaluated:
        names = join_phrases(quoted(r.name) + ("" if r.enabled else " (disabled)") for r in unevaluated)
        answer.say(f"Not evaluated at all {when}: {names}.")
    return answer
