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

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from lineage.alerts.models import AlertRule
from lineage.assistant.timephrases import Window, parse_window
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.workflows.models import Workflow

MAX_QUESTION_LENGTH = 500
INTENTS = ("explain_trace", "why_not_run", "list_failures", "impact", "run_metric", "help")

# Kinds of definition a name can refer to, and the subject prefix of their traces.
KINDS = {"metric": Metric, "alert": AlertRule, "workflow": Workflow}


@dataclass
class AskContext:
    """Who is asking, about which organization, and (on a trace page) which trace."""

    organization: Any
    org_ids: list[int]
    user: Any = None
    can_run: bool = False
    trace_id: uuid.UUID | None = None
    now: datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class NamedThing:
    kind: str  # metric, alert or workflow
    pk: int
    name: str

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.pk}"


@dataclass
class Plan:
    intent: str
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
    (_HELP, "help"),
    (_WHY_NOT, "why_not_run"),
    (_IMPACT, "impact"),
    (_WHY, "explain_trace"),
    (_RUN, "run_metric"),
    (_FAILURES, "list_failures"),
]
_LATEST = re.compile(r"\b(?:last|latest|most recent|previous|recent)\b")
_THIS = re.compile(r"\b(?:this|it|that)\b")

_TRACE_TYPES = {
    "workflow": "workflow", "workflows": "workflow",
    "metric": "metric", "metrics": "metric",
    "alert": "alert", "alerts": "alert",
    "step": "step", "steps": "step",
}  # fmt: skip

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_ELIDED_ID = re.compile(r"\b([0-9a-f]{3,})(?:…|\.\.\.)([0-9a-f]{2,})\b")
_PARTIAL_ID = re.compile(r"\b(?=[0-9a-f-]*\d)[0-9a-f][0-9a-f-]{5,35}\b")


def plan(message: str, context: AskContext) -> Plan:
    """The rule planner: always answers with a plan, possibly a clarification."""
    text = normalize(message)
    trace, id_problem = find_trace(text, context)
    if id_problem:
        return Plan("explain_trace", clarification=id_problem)
    without_ids = _strip_ids(text)
    window = parse_window(without_ids, context.now)
    intent = detect_intent(without_ids, has_target=trace is not None)
    result = Plan(intent, trace=trace, window=window)
    if intent == "help":
        return result
    if intent == "list_failures":
        result.trace_type = _mentioned_trace_type(without_ids)
        return result
    if trace is None:
        kinds = ("metric",) if intent == "run_metric" else ("workflow", "alert", "metric")
        target, problem = find_name(without_ids, context.organization, kinds)
        result.target, result.clarification = target, problem
        if target is None and not problem:
            if context.trace_id and (_THIS.search(without_ids) or intent == "explain_trace"):
                result.trace = ExecutionTrace.objects.filter(
                    pk=context.trace_id, org_id__in=context.org_ids
                ).first()
            if result.trace is None:
                result.clarification = _ask_for_target(intent)
    result.latest = bool(_LATEST.search(without_ids)) or (window is None and result.target is not None)
    return result


def normalize(message: str) -> str:
    text = " ".join(str(message).split())
    if not text:
        raise QuestionError("Ask a question — for example “why did Page ops fail?”.")
    if len(text) > MAX_QUESTION_LENGTH:
        raise QuestionError(
            f"That question is {len(text)} characters long; keep it under {MAX_QUESTION_LENGTH}."
        )
    return text.lower().replace("’", "'")


def detect_intent(text: str, *, has_target: bool = False) -> str:
    """The first rule that matches wins: the order settles questions that
    match several ("why didn't …" is also a "why …")."""
    for pattern, intent in _INTENT_RULES:
        if pattern.search(text):
            return intent
    return "explain_trace" if has_target else "help"


def _mentioned_trace_type(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", text):
        if word in _TRACE_TYPES:
            return _TRACE_TYPES[word]
    return None


def _ask_for_target(intent: str) -> str:
    if intent == "run_metric":
        return "Which metric should I run? Name it, e.g. “run Daily revenue now”."
    return "Which run do you mean? Name a workflow, alert or metric, or paste a trace id."


# --- Trace ids ----------------------------------------------------------------


def _strip_ids(text: str) -> str:
    text = _UUID.sub(" ", text)
    text = _ELIDED_ID.sub(" ", text)
    return _PARTIAL_ID.sub(" ", text)


def find_trace(text: str, context: AskContext) -> tuple[ExecutionTrace | None, str]:
    """A trace named by a full id, a prefix or suffix of 6+ hex digits (the
    pages show the last 8), or an elided “0192…c3”, within the user's orgs."""
    visible = ExecutionTrace.objects.filter(org_id__in=context.org_ids)
    full = _UUID.search(text)
    if full:
        trace = visible.filter(pk=full[0]).first()
        return (trace, "") if trace else (None, f"I can't find trace {full[0]}.")
    elided = _ELIDED_ID.search(text)
    if elided:
        as_text = visible.annotate(id_text=Cast("id", TextField()))
        return _unique(
            as_text.filter(id_text__startswith=elided[1], id_text__endswith=elided[2]), elided[0]
        )
    for token in _PARTIAL_ID.findall(text):
        digits = token.replace("-", "")
        if len(digits) < 6:
            continue
        return _unique(
            visible.filter(Q(id__startswith=token) | Q(id__endswith=token)), token
        )
    return None, ""


def _unique(matches, shown: str) -> tuple[ExecutionTrace | None, str]:
    found = list(matches.order_by("-started_at")[:2])
    if not found:
        return None, f"I can't find a trace whose id matches “{shown}”."
    if len(found) > 1:
        return None, f"Several traces match “{shown}”; paste more of the id."
    return found[0], ""


# --- Names --------------------------------------------------------------------

_FILLER = set(
    "why did didn't didnt not the a an run ran runs running fire fired firing this that it "
    "today yesterday morning last latest please now what when was is has hasn't how come "
    "explain trigger triggered start started happen happened since at in of for on my "
    "failed fail workflow workflows alert alerts metric metrics step steps".split()
)


def org_names(organization, kinds) -> list[NamedThing]:
    names = []
    for kind in kinds:
        model = KINDS[kind]
        for pk, name in model.objects.filter(organization=organization).values_list("pk", "name"):
            names.append(NamedThing(kind, pk, name))
    return names


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _best_score(text: str, words: list[str], name: str) -> float:
    """How well some run of the question's words matches the name."""
    lowered = name.lower()
    if re.search(rf"(?<![\w-]){re.escape(lowered)}(?![\w-])", text):
        return 1.0 + len(lowered) / 1000  # the longest exact mention wins
    size = len(lowered.split())
    best = 0.0
    for length in {max(1, size - 1), size, size + 1}:
        for start in range(0, max(1, len(words) - length + 1)):
            best = max(best, _similarity(" ".join(words[start : start + length]), lowered))
    return best


def find_name(text: str, organization, kinds) -> tuple[NamedThing | None, str]:
    """The definition the question names: exact, then fuzzy (typos), then by
    a distinctive word; several close candidates → a question back."""
    candidates = org_names(organization, kinds)
    if not candidates:
        return None, ""
    words = re.findall(r"[\w'-]+", text)
    scored = sorted(
        ((_best_score(text, words, c.name), c) for c in candidates), key=lambda s: -s[0]
    )
    best_score, best = scored[0]
    close = [c for score, c in scored if score >= 0.84 and best_score - score < 0.04]
    if best_score >= 1.0:
        return best, ""
    if len({c.name.lower() for c in close}) > 1:
        return None, _did_you_mean([c.name for c in close])
    if best_score >= 0.84:
        return best, ""
    by_word = _by_distinctive_word(words, candidates)
    if len(by_word) == 1:
        return by_word[0], ""
    if len(by_word) > 1:
        return None, _did_you_mean([c.name for c in by_word])
    if _mentions_something(words):
        near = [c.name for _, c in scored[:3]]
        return None, "I don't know that name here. " + _did_you_mean(near)
    return None, ""


def _by_distinctive_word(words: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    asked = {w for w in words if w not in _FILLER and len(w) > 2}
    found = [c for c in candidates if asked & set(re.findall(r"[\w'-]+", c.name.lower()))]
    return list({c.name.lower(): c for c in found}.values())


def _mentions_something(words: list[str]) -> bool:
    return any(w not in _FILLER and len(w) > 2 for w in words)


def _did_you_mean(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    if len(unique) == 1:
        return f"Did you mean {unique[0]}?"
    return "Did you mean " + ", ".join(unique[:-1]) + " or " + unique[-1] + "?"
