"""Turning a question into a plan: an intent and its arguments.

The default planner is offline and deterministic: keyword rules pick the
intent, names are matched (with typos) against the organization's own
metric, alert and workflow names, trace ids are matched within the user's
organizations, and time phrases become windows. Nothing in a question is
ever executed; names and ids only ever select existing rows.
"""
from __future__ import annotations

import difflib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from lineage.assistant.intents import WHOLE_ORGANIZATION, Intent
from lineage.assistant.timephrases import Window, parse_window
from lineage.observability.ids import TraceNotFound, id_prefix, id_suffix, is_id_like
from lineage.observability.jsonsafe import clean_text
from lineage.observability.models import ExecutionTrace, TraceType
from lineage.observability.subjects import Subject, definition_model, subject_for

MAX_QUESTION_LENGTH = 500
# The kinds of definition a question can name, in the order ties go.
NAMED_KINDS = (TraceType.WORKFLOW, TraceType.ALERT, TraceType.METRIC)


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


@dataclass(frozen=True)
class NamedThing:
    kind: str  # metric, alert or workflow
    pk: int
    name: str

    @property
    def subject(self) -> str:
        return subject_for(self.kind, self.pk)


@dataclass
class Plan:
    intent: Intent
    target: NamedThing | None = None
    trace: ExecutionTrace | None = None
    window: Window | None = None
    trace_type: str | None = None
    latest: bool = False
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
        if self.trace_type:
            args["trace_type"] = self.trace_type
        if self.latest:
            args["latest"] = True
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
_FAILURES = re.compile(
    r"\b(?:fail|failed|fails|failing|failures?|errors?|errored|broke|broken|went wrong|crash\w*)\b"
)
_RUN = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+|pls\s+)?"
    r"(?:re-?run|run|recompute|compute|refresh|execute|trigger|kick off|start)\b"
)
_HELP = re.compile(r"^\s*(?:help|\?|what can (?:i|you)\b.*|examples?|how (?:do|does) (?:this|it) work.*)\s*\??\s*$")
_INTENT_RULES = [
    (_HELP, Intent.HELP),
    (_WHY_NOT, Intent.WHY_NOT),
    (_IMPACT, Intent.IMPACT),
    (_WHY, Intent.EXPLAIN),
    (_RUN, Intent.RUN_METRIC),
    (_FAILURES, Intent.FAILURES),
]
# "the last run", not "the last hour" (a window).
_LATEST = re.compile(
    r"\b(?:last|latest|most recent|previous|recent)\b"
    r"(?!\s+(?:\d+\s*|an?\s+|few\s+)?(?:minute|min|hour|hr|h|day|d|week|w)s?\b)"
)
_THIS = re.compile(r"\b(?:this|it|that)\b")

_TRACE_TYPES = {
    "workflow": "workflow", "workflows": "workflow",
    "metric": "metric", "metrics": "metric",
    "alert": "alert", "alerts": "alert",
    "step": "step", "steps": "step",
}  # fmt: skip

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
    without_ids = _strip_ids(text)
    window = parse_window(without_ids, context.now)
    intent = detect_intent(without_ids)
    if intent in WHOLE_ORGANIZATION:
        return Plan(intent, window=window, trace_type=_mentioned_trace_type(without_ids))
    result = Plan(intent or Intent.EXPLAIN, trace=trace, window=window)
    if trace is None:
        _choose_target(result, without_ids, context, named_intent=intent is not None)
    result.latest = bool(_LATEST.search(without_ids)) or (window is None and result.target is not None)
    return complete_plan(result, context)


def _choose_target(result: Plan, text: str, context: AskContext, *, named_intent: bool) -> None:
    """A named definition, else (on a trace page) the trace being viewed,
    else a question back."""
    kinds = (TraceType.METRIC,) if result.intent == Intent.RUN_METRIC else NAMED_KINDS
    lookup = find_name(text, context.organization, kinds)
    if lookup.target is not None:
        result.target = lookup.target
        return
    if not named_intent:
        result.intent = Intent.HELP  # neither a question we know nor a name: say what can be asked
        return
    # On a trace page, a follow-up that names nothing known is about that
    # trace — except running something, which must be asked for plainly.
    viewed = None if lookup.ambiguous else _viewed_trace(context)
    plainly_this = _THIS.search(text) or not lookup.nearest
    if viewed is not None and (result.intent != Intent.RUN_METRIC or plainly_this):
        result.trace = viewed
        return
    result.clarification = lookup.question or _ask_for_target(result.intent)


def _viewed_trace(context: AskContext) -> ExecutionTrace | None:
    if context.trace_id is None:
        return None
    return ExecutionTrace.objects.for_orgs(context.org_ids).filter(pk=context.trace_id).first()


def complete_plan(result: Plan, context: AskContext) -> Plan:
    """Complete a plan from either planner: a trace stands for its definition
    where the intent needs one, and a plan missing what its intent needs asks
    for it instead."""
    if result.clarification or result.intent in WHOLE_ORGANIZATION:
        return result
    needs_definition = result.intent in (Intent.RUN_METRIC, Intent.WHY_NOT)
    if result.trace is not None and result.target is None and needs_definition:
        result.target = definition_of(result.trace, context)
        if result.intent == Intent.RUN_METRIC:
            result.trace = None
            if result.target is None or result.target.kind != TraceType.METRIC:
                result.clarification = (
                    "Only metrics can be run from chat, and that trace is not a run of one of "
                    "this organization's metrics. Name a metric, e.g. “run Daily revenue now”."
                )
            return result
        if result.target is None:
            result.intent = Intent.EXPLAIN  # a step: what happened to it is the answer
    if result.target is None and result.trace is None:
        result.clarification = _ask_for_target(result.intent)
    return result


def definition_of(trace: ExecutionTrace, context: AskContext) -> NamedThing | None:
    """The metric, alert or workflow a trace is a run of, if it is still
    defined in the organization being asked about."""
    subject = Subject.parse(trace.subject)
    if subject is None or subject.kind not in NAMED_KINDS:
        return None
    definition = subject.definition(context.organization.pk)
    return NamedThing(subject.kind, subject.pk, definition.name) if definition else None


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
    """The first rule that matches wins: the order settles questions that
    match several ("why didn't …" is also a "why …"). None: no rule matched."""
    for pattern, intent in _INTENT_RULES:
        if pattern.search(text):
            return intent
    return None


def _mentioned_trace_type(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", text):
        if word in _TRACE_TYPES:
            return _TRACE_TYPES[word]
    return None


def _ask_for_target(intent: Intent) -> str:
    if intent == Intent.RUN_METRIC:
        return "Which metric should I run? Name it, e.g. “run Daily revenue now”."
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


# --- Names --------------------------------------------------------------------

_FILLER = set(
    "why did didn't didnt not the a an run ran runs running fire fired firing this that it "
    "today yesterday morning last latest please now what when was is has hasn't how come "
    "explain trigger triggered start started happen happened since at in of for on my "
    "failed fail workflow workflows alert alerts metric metrics step steps again any anything "
    "me show list there been do does with from and or about you can go get yet still "
    # the words of the intents and time phrases, which name nothing
    "impact effect effects downstream consequence consequences cause caused causes reason "
    "rerun re-run recompute compute computed refresh execute kick off evaluated error errors "
    "errored went wrong broke broken crashed failure failures lead set "
    "hour hours minute minutes day days week weeks ago between until till to past previous "
    "afternoon evening tonight monday tuesday wednesday thursday friday saturday sunday".split()
)


def org_names(organization, kinds) -> list[NamedThing]:
    names = []
    for kind in kinds:
        model = definition_model(kind)
        for pk, name in model.objects.filter(organization=organization).values_list("pk", "name"):
            names.append(NamedThing(kind, pk, name))
    return names


# A typo'd name still matches at this similarity (difflib's ratio); below
# it, a name is only found by a word it shares with the question.
FUZZY_CUTOFF = 0.84
MAX_SUGGESTED = 5
_NUMBER = re.compile(r"\d+")


def _mentioned_exactly(text: str, name: str) -> bool:
    lowered = name.lower()
    # The substring test spares compiling a pattern per name for most names.
    return lowered in text and re.search(rf"(?<![\w-]){re.escape(lowered)}(?![\w-])", text) is not None


class _Windows:
    """Runs of the question's words, by length, to hold against names."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self._by_length: dict[int, list[str]] = {}

    def of_length(self, length: int) -> list[str]:
        if length not in self._by_length:
            last = max(1, len(self.words) - length + 1)
            self._by_length[length] = [" ".join(self.words[i : i + length]) for i in range(last)]
        return self._by_length[length]


def _fuzzy_score(windows: _Windows, name: str, numbers: set[str]) -> float:
    """The best similarity of a run of the question's words to the name, if
    it reaches FUZZY_CUTOFF (else 0). A name's numbers must be in the
    question: “Orders 17” is never a typo for “Orders 510”."""
    lowered = name.lower()
    if not set(_NUMBER.findall(lowered)) <= numbers:
        return 0.0
    matcher = difflib.SequenceMatcher(None, b=lowered)  # caches the name's side
    best = 0.0
    size = len(lowered.split())
    for length in {max(1, size - 1), size, size + 1}:
        for window in windows.of_length(length):
            matcher.set_seq1(window)
            floor = max(best, FUZZY_CUTOFF)
            # The cheap upper bounds first, as difflib.get_close_matches does.
            if matcher.real_quick_ratio() >= floor and matcher.quick_ratio() >= floor:
                best = max(best, matcher.ratio())
    return best if best >= FUZZY_CUTOFF else 0.0


@dataclass
class NameLookup:
    """What a question's words matched among the organization's names."""

    target: NamedThing | None = None
    ambiguous: list[str] = field(default_factory=list)
    nearest: list[str] = field(default_factory=list)  # when the words matched nothing

    @property
    def question(self) -> str:
        if self.ambiguous:
            return _did_you_mean(self.ambiguous)
        if self.nearest:
            return "I don't know that name here. " + _did_you_mean(self.nearest)
        return ""


def find_name(text: str, organization, kinds) -> NameLookup:
    """The definition the question names: exact (the longest mention wins),
    then fuzzy (typos), then by the telling words it shares; several close
    candidates → ambiguous. A kind word ("the revenue alert") settles a tie
    between kinds."""
    candidates = org_names(organization, kinds)
    if not candidates:
        return NameLookup()
    exact = [c for c in candidates if _mentioned_exactly(text, c.name)]
    if exact:
        return NameLookup(max(exact, key=lambda c: len(c.name)))
    words = re.findall(r"[\w'-]+", text)
    close = _fuzzy_matches(text, words, candidates) or _by_distinctive_word(words, candidates)
    close = _of_mentioned_kind(words, close)
    names = list(dict.fromkeys(c.name for c in close))
    if len(names) == 1:
        return NameLookup(close[0])
    if names:
        return NameLookup(ambiguous=names)
    if _mentions_something(words):
        return NameLookup(nearest=_nearest(words, candidates))
    return NameLookup()


def _fuzzy_matches(text: str, words: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    windows, numbers = _Windows(words), set(_NUMBER.findall(text))
    scored = [(_fuzzy_score(windows, c.name, numbers), c) for c in candidates]
    best = max(score for score, _ in scored)
    return [c for score, c in scored if score and best - score < 0.04]


def _nearest(words: list[str], candidates: list[NamedThing]) -> list[str]:
    telling = " ".join(w for w in words if w not in _FILLER)
    names = list(dict.fromkeys(c.name for c in candidates))
    by_lower = {name.lower(): name for name in names}
    near = difflib.get_close_matches(telling, list(by_lower), n=3, cutoff=0.0)
    return [by_lower[name] for name in near]


def _of_mentioned_kind(words: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    mentioned = {_TRACE_TYPES[w] for w in words if w in _TRACE_TYPES}
    of_kind = [c for c in candidates if c.kind in mentioned]
    return of_kind or candidates


def _by_distinctive_word(words: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    """The names sharing the most of the question's telling words (and whose
    numbers, if any, the question gives)."""
    asked = {w for w in words if w not in _FILLER and len(w) > 2}
    numbers = {w for w in words if w.isdigit()}
    shared = {
        c: len(asked & set(re.findall(r"[\w'-]+", c.name.lower())))
        for c in candidates
        if set(_NUMBER.findall(c.name)) <= numbers
    }
    most = max(shared.values(), default=0)
    found = [c for c, count in shared.items() if count and count == most]
    return list({c.name.lower(): c for c in found}.values())


def _mentions_something(words: list[str]) -> bool:
    return any(w not in _FILLER and len(w) > 2 for w in words)


def _did_you_mean(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    if len(unique) == 1:
        return f"Did you mean {unique[0]}?"
    if len(unique) > MAX_SUGGESTED:
        shown, others = unique[: MAX_SUGGESTED - 1], len(unique) - MAX_SUGGESTED + 1
        return "Did you mean " + ", ".join(shown) + f" or one of {others} others? Name it in full."
    return "Did you mean " + ", ".join(unique[:-1]) + " or " + unique[-1] + "?"
