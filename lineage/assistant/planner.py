"""Turning a question into a plan: an intent and its arguments.

The default planner is offline and deterministic: keyword rules pick the
intent, names are matched (with typos) against the organization's own
metric, alert and workflow names (names.py), trace ids are matched within
the user's organizations, and time phrases become windows (timephrases.py).
Nothing in a question is ever executed; names and ids only ever select
existing rows.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from lineage.assistant.intents import NAME_OPTIONAL, WHOLE_ORGANIZATION, Intent
from lineage.assistant.names import KIND_WORDS, NAMED_KINDS, NamedThing, find_name
from lineage.assistant.timephrases import TimePhrases, Window, find_time_phrases
from lineage.observability.ids import TraceNotFound, id_prefix, id_suffix, is_id_like
from lineage.observability.jsonsafe import clean_text
from lineage.observability.models import ExecutionTrace, TraceStatus, TraceType
from lineage.observability.subjects import Subject

MAX_QUESTION_LENGTH = 500
RUNNABLE_KINDS = (TraceType.METRIC, TraceType.WORKFLOW)


@dataclass
class AskContext:
    """Who is asking, about which organization, and (on a trace page) which trace."""

    organization: Any
    org_ids: list[int]
    user: Any = None
    can_run: bool = False
    # A run is started only when confirmed: a question alone (a link, a
    # bookmark, a typo) only offers it, as a button.
    confirmed: bool = False
    trace_id: uuid.UUID | None = None
    now: datetime = field(default_factory=timezone.now)


@dataclass
class Plan:
    intent: Intent
    target: NamedThing | None = None
    trace: ExecutionTrace | None = None
    window: Window | None = None
    other_window: Window | None = None  # a second window (comparing two runs)
    trace_type: str | None = None
    latest: bool = False
    # What the question asks about the runs: failed, succeeded, fired, quiet or ran.
    outcome: str = ""
    # "re-run", "run again": the failed run, when the latest one failed.
    again: bool = False
    # Words that looked like a time but were not understood ("last quarter").
    unread_time: str = ""
    # When set, the planner could not decide: ask this back instead.
    clarification: str = ""

    @property
    def args(self) -> dict[str, Any]:
        """The arguments, plainly (for tests, --json and the language model)."""
        args: dict[str, Any] = {}
        if self.target:
            args["name"], args["kind"] = self.target.name, self.target.kind
        if self.trace:
            args["trace_id"] = str(self.trace.id)
        if self.window:
            args["window"] = self.window.label
        if self.other_window:
            args["other_window"] = self.other_window.label
        for name in ("trace_type", "latest", "outcome", "unread_time"):
            if getattr(self, name):
                args[name] = getattr(self, name)
        return args


class QuestionError(ValueError):
    """A question that cannot be planned at all (empty, too long)."""


# --- Intent rules -------------------------------------------------------------

_NEGATED = (
    r"\b(?:didn'?t|did not|hasn'?t|has not|haven'?t|wasn'?t|was not|isn'?t|is not|"
    r"doesn'?t|does not|won'?t|never|no longer|not)\b"
)
_WHY_NOT = re.compile(
    rf"\b(?:why|how come|reason)\b.*{_NEGATED}|\bwhy\s+(?:no|nothing)\b|"
    rf"{_NEGATED}.*\b(?:run|ran|fire|fired|trigger|triggered|start|started)\b.*\bwhy\b"
)
_WHY = re.compile(r"\b(?:why|how come|what caused|what triggered|reason|explain|cause of)\b")
_IMPACT = re.compile(
    r"\b(?:what did|what has|what have)\b.*\b(?:trigger|cause|start|set off|lead to|kick off|do)\b|"
    r"\b(?:impact|effects?|downstream|consequences?|what happened (?:after|because))\b|"
    r"\bwhat (?:ran|happened) because\b"
)
_COMPARE = re.compile(
    r"\b(?:what changed|what'?s changed|what is different|what'?s different|difference|differ|"
    r"compare|comparison|diff)\b"
)
_PREVIEW = re.compile(
    r"\bwould\b.*\b(?:fire|run|trigger|start|happen|compute|be)\b|\bdry[- ]?run\b|\bpreview\b|"
    r"\bwhat if\b|\bif (?:i|we|you) (?:ran|run)\b"
)
_COUNT = re.compile(r"\bhow (?:many|often)\b|\bnumber of\b|\bcount\b")
_LAST = re.compile(
    r"\bwhen (?:did|was|has)\b.*\blast\b|\bwhen did\b.*\b(?:last|latest)\b|"
    r"\blast (?:time|success\w*|good run|green run|passing run)\b"
)
_RUNNING = re.compile(
    r"\b(?:running|in progress|going on|still going|stuck|underway|under way)\b"
)
_ALERTS = re.compile(
    r"\b(?:which|what|any|list|show)\b.*\balerts?\b.*\b(?:fire|fired|firing|went off|go off|"
    r"trigger(?:ed)?|quiet)\b|\balerts? (?:that )?(?:fired|went off|did ?n[o']?t fire)\b"
)
_HEALTH = re.compile(
    r"\b(?:healthy|health|broken|working|okay|ok|fine|failing|flaky|down|green|alright|all right)\b"
    r"|\bstatus of\b|\bhow (?:is|are|'s)\b|\bhow's\b"
)
_FAILURES = re.compile(
    r"\b(?:fail|failed|fails|failing|failures?|errors?|errored|broke|broken|went wrong|crash\w*)\b"
)
_AGAIN = re.compile(r"\b(?:re-?run|retry|run again|again)\b")
_RUN = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+|pls\s+)?"
    r"(?:re-?run|run|retry|recompute|compute|refresh|execute|trigger|kick off|start)\b"
)
_HELP = re.compile(r"^\s*(?:help|\?|what can (?:i|you)\b.*|examples?|how (?:do|does) (?:this|it) work.*)\s*\??\s*$")
# The first rule that matches wins: the order settles questions that match
# several ("why didn't …" is also a "why …"; "is X failing?" also names failures).
_INTENT_RULES = [
    (_HELP, Intent.HELP),
    (_WHY_NOT, Intent.WHY_NOT),
    (_COMPARE, Intent.COMPARE),
    (_COUNT, Intent.COUNT),
    (_IMPACT, Intent.IMPACT),
    (_WHY, Intent.EXPLAIN),
    (_PREVIEW, Intent.PREVIEW),
    (_RUN, Intent.RUN),
    (_LAST, Intent.LAST),
    (_ALERTS, Intent.ALERTS),
    (_RUNNING, Intent.RUNNING),
    (_HEALTH, Intent.HEALTH),
    (_FAILURES, Intent.FAILURES),
]
_OUTCOMES = [
    (re.compile(rf"{_NEGATED}\s*(?:[\w-]+\s+){{0,4}}(?:fire|fired|go off|trigger)\b|\bquiet\b"), "quiet"),
    (re.compile(r"\b(?:fail|failed|fails|failing|failures?|errors?|errored|broke|crash\w*)\b"), "failed"),
    (re.compile(r"\b(?:succeed\w*|success\w*|work|worked|pass|passed|ok|green|good)\b"), "succeeded"),
    (re.compile(r"\b(?:fire|fired|fires|firing|went off|go off)\b"), "fired"),
    (re.compile(r"\b(?:run|ran|runs|computed?|evaluated|started)\b"), "ran"),
]
# "the last run", not "the last hour" (a window).
_LATEST = re.compile(
    r"\b(?:last|latest|most recent|previous|recent)\b"
    r"(?!\s+(?:\d+\s*|an?\s+|few\s+)?(?:minute|min|hour|hr|h|day|d|week|w|weekend|night|month|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)s?\b)"
)
# "this", "it": the trace being viewed — not "this week".
_THIS = re.compile(
    r"\b(?:this|it|that)\b(?!\s+(?:week|weekend|morning|afternoon|evening|month|year|time)\b)"
)

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_ELIDED_ID = re.compile(r"\b([0-9a-f]{3,})(?:…|\.\.\.)([0-9a-f]{2,})\b")
# Runs of hex digits that may be part of an id (is_id_like says which are):
# not a date ("since 2026-11-27"), not counted in time units ("the last
# 120000 minutes").
_HEX_RUN = re.compile(
    r"\b(?!\d{4}-\d{2}-\d{2}\b)[0-9a-f][0-9a-f-]{5,35}\b"
    r"(?!\s*(?:minute|min|hour|hr|h|day|d|week|w)s?\b)"
)


def plan(message: str, context: AskContext) -> Plan:
    """The rule planner: always answers with a plan, possibly a clarification."""
    text = normalize(message)
    trace, id_problem = find_trace(text, context)
    if id_problem:
        return Plan(Intent.EXPLAIN, clarification=id_problem)
    words = _strip_ids(text)
    intent = detect_intent(words)
    result = Plan(intent or Intent.EXPLAIN, trace=trace)
    result.outcome = detect_outcome(words)
    result.again = bool(_AGAIN.search(words))
    result.trace_type = _mentioned_trace_type(words)
    if intent not in WHOLE_ORGANIZATION and trace is None:
        _choose_target(result, words, context, named_intent=intent is not None)
    # The name asked about is not a time phrase ("the Weekend digest").
    spoken = words.replace(result.target.name.lower(), " ") if result.target else words
    _read_times(result, find_time_phrases(spoken, context.now))
    result.latest = bool(_LATEST.search(words)) or (result.window is None and result.target is not None)
    return complete_plan(result, context)


def _read_times(result: Plan, phrases: TimePhrases) -> None:
    result.window = phrases.first
    if len(phrases.windows) > 1:
        result.other_window = phrases.windows[1]
    if phrases.not_understood:
        result.unread_time = phrases.not_understood[0]


def _choose_target(result: Plan, text: str, context: AskContext, *, named_intent: bool) -> None:
    """A named definition, else (on a trace page) the trace being viewed,
    else a question back — or, for an intent that may name nothing, nothing."""
    kinds = RUNNABLE_KINDS if result.intent in (Intent.RUN, Intent.RERUN) else NAMED_KINDS
    lookup = find_name(text, context.organization, kinds)
    if lookup.target is not None:
        result.target = lookup.target
        return
    if not named_intent and not (lookup.ambiguous or lookup.suggested):
        result.intent = Intent.HELP  # neither a question we know nor a name: say what can be asked
        return
    # On a trace page, a follow-up that names nothing known is about that
    # trace — except running something, which must be asked for plainly.
    viewed = None if lookup.ambiguous else _viewed_trace(context)
    running = result.intent in (Intent.RUN, Intent.RERUN)
    if viewed is not None and (not running or _THIS.search(text) or not lookup.question):
        result.trace = viewed
        return
    if result.intent in _WITHOUT_A_NAME and not (lookup.ambiguous or lookup.suggested):
        result.intent = _WITHOUT_A_NAME[result.intent]  # "is anything broken?"
        return
    if result.intent in NAME_OPTIONAL and not lookup.question and not _THIS.search(text):
        return  # about everything
    result.clarification = lookup.question or ask_for_target(result.intent)


def _viewed_trace(context: AskContext) -> ExecutionTrace | None:
    if context.trace_id is None:
        return None
    return ExecutionTrace.objects.for_orgs(context.org_ids).filter(pk=context.trace_id).first()


# What a question means when it names nothing: "is anything broken?" lists failures.
_WITHOUT_A_NAME = {Intent.HEALTH: Intent.FAILURES}
# Intents about a definition: a trace given stands for the definition it ran.
_ABOUT_DEFINITIONS = {Intent.WHY_NOT, Intent.COUNT, Intent.HEALTH, Intent.LAST, Intent.PREVIEW}


def complete_plan(result: Plan, context: AskContext) -> Plan:
    """Complete a plan from either planner: a trace stands for its definition
    where the intent needs one, a re-run finds the failed run, and a plan
    missing what its intent needs asks for it instead."""
    if result.clarification or result.intent in WHOLE_ORGANIZATION:
        return result
    if result.intent in (Intent.RUN, Intent.RERUN):
        return _complete_run(result, context)
    if result.trace is not None and result.target is None and result.intent in _ABOUT_DEFINITIONS:
        result.target = definition_of(result.trace, context)
        if result.target is None:
            result.intent = Intent.EXPLAIN  # a step: what happened to it is the answer
    if result.target is None and result.trace is None and result.intent not in NAME_OPTIONAL:
        result.clarification = ask_for_target(result.intent)
    return result


def _complete_run(result: Plan, context: AskContext) -> Plan:
    """“run X”: a new run. “re-run X” (or a failed trace): the failed run,
    re-run and linked to it, when X's latest run failed."""
    trace = result.trace
    if trace is not None and trace.trace_type == TraceType.STEP:
        trace = _workflow_run_of(trace, context)
    if trace is not None:
        result.target = result.target or definition_of(trace, context)
        result.trace = trace if trace.status == TraceStatus.FAILED else None
    elif result.target is not None and (result.again or result.intent == Intent.RERUN):
        runs = ExecutionTrace.objects.for_orgs(context.org_ids).runs_of(result.target.subject)
        if result.window:
            runs = runs.started_between(result.window.start, result.window.end)
        latest = runs.first()
        result.trace = latest if latest is not None and latest.status == TraceStatus.FAILED else None
    result.intent = Intent.RERUN if result.trace is not None else Intent.RUN
    if result.target is None or result.target.kind not in RUNNABLE_KINDS:
        result.trace = None
        result.clarification = (
            "Only metrics and workflows can be run from chat, and that is neither one of this "
            "organization's. Name one, e.g. “run Daily revenue now”."
            if trace is not None
            else ask_for_target(Intent.RUN)
        )
    return result


def _workflow_run_of(step: ExecutionTrace, context: AskContext) -> ExecutionTrace | None:
    """The workflow run a step belonged to (re-running a step re-runs it)."""
    return (
        ExecutionTrace.objects.for_orgs(context.org_ids)
        .parents_of(step)
        .filter(trace_type=TraceType.WORKFLOW)
        .first()
    )


def definition_of(trace: ExecutionTrace, context: AskContext) -> NamedThing | None:
    """The metric, alert or workflow a trace is a run of, if it is still
    defined in the organization being asked about."""
    subject = Subject.parse(trace.subject)
    if subject is None or subject.kind not in NAMED_KINDS:
        return None
    definition = subject.definition(context.organization.pk)
    if definition is None:
        return None
    return NamedThing(subject.kind, subject.pk, definition.name, definition.enabled)


def normalize(message: str) -> str:
    text = " ".join(clean_text(str(message)).split())
    if not text:
        raise QuestionError("Ask a question — for example “why did Page ops fail?”.")
    if len(text) > MAX_QUESTION_LENGTH:
        raise QuestionError(
            f"That question is {len(text)} characters long; keep it under {MAX_QUESTION_LENGTH}."
        )
    return text.lower().replace("’", "'")


def detect_intent(text: str) -> Intent | None:
    """The first rule that matches wins. None: no rule matched."""
    for pattern, intent in _INTENT_RULES:
        if pattern.search(text):
            return intent
    return None


def detect_outcome(text: str) -> str:
    for pattern, outcome in _OUTCOMES:
        if pattern.search(text):
            return outcome
    return ""


def _mentioned_trace_type(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", text):
        if word in KIND_WORDS:
            return KIND_WORDS[word]
    return None


def ask_for_target(intent: Intent) -> str:
    if intent in (Intent.RUN, Intent.RERUN):
        return "Which metric or workflow should I run? Name it, e.g. “run Daily revenue now”."
    return "Which run do you mean? Name a workflow, alert or metric, or paste a trace id."


# --- Trace ids ----------------------------------------------------------------


def _strip_ids(text: str) -> str:
    text = _UUID.sub(" ", text)
    text = _ELIDED_ID.sub(" ", text)
    return _HEX_RUN.sub(lambda run: " " if is_id_like(run[0]) else run[0], text)


def find_trace(text: str, context: AskContext) -> tuple[ExecutionTrace | None, str]:
    """A trace named by a full id, a prefix or suffix of 6+ hex digits (the
    pages show the last 8), or an elided “0192…c3”, within the user's orgs."""
    visible = ExecutionTrace.objects.for_orgs(context.org_ids)
    try:
        return _trace_named_in(text, visible, context.now), ""
    except TraceNotFound as problem:
        return None, str(problem)


def _trace_named_in(text: str, visible, now: datetime) -> ExecutionTrace | None:
    full = _UUID.search(text)
    if full:
        return visible.find_by_id(full[0])
    elided = _ELIDED_ID.search(text)
    if elided:
        return visible.filter(id_prefix(elided[1]), id_suffix(elided[2])).only_one(elided[0])
    for token in filter(is_id_like, _HEX_RUN.findall(text)):
        if len(token.replace("-", "")) > 32:
            raise TraceNotFound(f"“{token}” is longer than a trace id.")
        return visible.with_id_fragment(token, now).only_one(token)
    return None

