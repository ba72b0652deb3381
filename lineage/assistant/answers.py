"""Carrying out a plan: each intent's tool reads the traces and answers in
sentences, each citing the trace it is about. Answers say only what the
traces say. The tools live by concept: explaining.py (why it ran, what it
triggered, what failed), why_not.py, counts.py (how many, how healthy, when
last, what is running, which alerts fired), compare.py (two runs side by
side) and actions.py (runs offered, dry runs)."""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from lineage.assistant import actions, compare, counts, explaining, why_not
from lineage.assistant.intents import SPECS, Intent
from lineage.assistant.llm import plan_with_llm
from lineage.assistant.planner import AskContext, Plan, complete_plan, plan
from lineage.assistant.replies import Answer, Line, Proposal
from lineage.observability.formatting import quoted

__all__ = ["Answer", "Line", "Proposal", "answer_question", "answer_plan", "EXAMPLES"]

# The Ask page's buttons: one question of each common kind.
EXAMPLES = [
    SPECS[intent].example
    for intent in (
        Intent.EXPLAIN, Intent.WHY_NOT, Intent.FAILURES, Intent.COUNT, Intent.HEALTH,
        Intent.ALERTS, Intent.PREVIEW, Intent.RUN,
    )
]  # fmt: skip

TIME_PHRASES = (
    "today, this morning, yesterday, last night, in the last 3 hours, since Monday, "
    "on Saturday, last Tuesday, 3 days ago, 2 hours ago, last week, this week, over the "
    "weekend, this month, at 10:05, between 9 and 11, on Nov 20, on 2026-11-27, since 2026-11-20"
)


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
    answer = TOOLS[question_plan.intent](question_plan, context, answer)
    if question_plan.unread_time:
        _say_what_was_used(question_plan, answer)
    return answer


def _say_what_was_used(question_plan: Plan, answer: Answer) -> None:
    """A time phrase not understood is never silently dropped."""
    if question_plan.window is not None:
        used = f"I read {question_plan.window.label} and did not understand the rest"
    elif answer.window_used:
        used = f"I looked {answer.window_used} instead"
    else:
        used = "so this is about the latest runs"
    said = f"I did not understand {quoted(question_plan.unread_time)} as a time; {used}."
    answer.lines.insert(0, Line(said))


def help_tool(question_plan: Plan, context: AskContext, answer: Answer) -> Answer:
    answer.say(
        "I answer questions about runs from their traces. You can ask, for a workflow, "
        "alert or metric by name (typos are fine) or a trace id:"
    )
    for intent, spec in SPECS.items():
        if intent != Intent.HELP:
            answer.say(f"“{spec.example}” — {spec.told}")
    answer.say(f"Times I understand, in your time zone: {TIME_PHRASES}.")
    return answer


Tool = Callable[[Plan, AskContext, Answer], Answer]
TOOLS: dict[Intent, Tool] = {
    Intent.HELP: help_tool,
    Intent.EXPLAIN: explaining.explain_tool,
    Intent.IMPACT: explaining.impact_tool,
    Intent.FAILURES: explaining.failures_tool,
    Intent.WHY_NOT: why_not.why_not_tool,
    Intent.COUNT: counts.count_tool,
    Intent.HEALTH: counts.health_tool,
    Intent.LAST: counts.last_tool,
    Intent.RUNNING: counts.running_tool,
    Intent.ALERTS: counts.alerts_tool,
    Intent.COMPARE: compare.compare_tool,
    Intent.PREVIEW: actions.preview_tool,
    Intent.RUN: actions.run_tool,
    Intent.RERUN: actions.rerun_tool,
}


def answer_confirmed_run(subject: str, context: AskContext, rerun_of: str = "") -> Answer:
    """Start the run a person confirmed (see Proposal)."""
    return actions.confirmed_run(subject, rerun_of, context, answer_plan)
