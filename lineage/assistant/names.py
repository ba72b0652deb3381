"""Which definition a question is about: the organization's metric, alert
and workflow names held against the question's words.

A name counts as mentioned when the question spells it (the first one
spelled wins: it is the subject of “why did X …”, “how many times did X …”),
when a run of the question's words is a typo of it (RapidFuzz's ratio), or
when the question refers to it by a word and its kind (“the revenue alert”).
One shared word alone never picks a name — “drop” is a word before it is a
name — it only makes a suggestion. Several names fitting about equally are
asked back, with the kind the question's verb is about preferred (“fire”:
an alert). Suggestions are only names that are actually close.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import CharField, Value
from rapidfuzz import fuzz, process

from lineage.observability.formatting import join_phrases, quoted
from lineage.observability.models import TraceType
from lineage.observability.subjects import definition_model, subject_for

# The kinds of definition a question can name.
NAMED_KINDS = (TraceType.WORKFLOW, TraceType.ALERT, TraceType.METRIC)

KIND_WORDS = {
    "workflow": TraceType.WORKFLOW, "workflows": TraceType.WORKFLOW,
    "metric": TraceType.METRIC, "metrics": TraceType.METRIC,
    "alert": TraceType.ALERT, "alerts": TraceType.ALERT,
    "step": TraceType.STEP, "steps": TraceType.STEP,
}  # fmt: skip

# What a verb says about the kind of thing the question is about.
_VERB_KINDS = [
    (re.compile(r"\b(?:fire|fired|fires|firing|went off|go off|evaluated|evaluation)\b"), TraceType.ALERT),
    (re.compile(r"\b(?:computed?|recompute|value|values)\b"), TraceType.METRIC),
]

# A typo'd name still matches at this similarity (RapidFuzz's ratio, 0–100,
# the same measure as difflib's); names within TIE of the best fit equally.
FUZZY_CUTOFF = 84
TIE = 4
# A suggestion must be at least this close (token set ratio of the
# question's telling words to the name): “xyzzy” suggests nothing.
SUGGESTION_CUTOFF = 60
MAX_SUGGESTED = 5
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[\w'-]+")

# Words that name nothing: the questions' own words, the intents' and the
# time phrases'. What is left is what a question may be naming.
FILLER = frozenset(
    "why did didn't didnt not the a an run ran runs running fire fired firing this that it "
    "today yesterday morning last latest please now what when was is has hasn't how come "
    "explain trigger triggered start started happen happened since at in of for on my "
    "failed fail fails workflow workflows alert alerts metric metrics step steps again any "
    "anything me show list there been do does with from and or about you can go get yet still "
    "impact effect effects downstream consequence consequences cause caused causes reason "
    "rerun re-run recompute compute computed refresh execute kick off evaluated evaluation "
    "error errors errored went wrong broke broken crashed failure failures lead set retry "
    "hour hours minute minutes day days week weeks month ago between until till to past previous "
    "afternoon evening tonight night weekend weekends "
    "monday tuesday wednesday thursday friday saturday sunday "
    "many times often much number count healthy health working ok okay fine failing down "
    "status succeed succeeded success successful work worked pass passed green red "
    "would will if dry preview happen changed change changes different difference differ "
    "compare comparison versus vs which who whose where its their those these them they "
    "currently right going progress are be being were we i our succeeds stuck hung active "
    "quarter year years noon midnight fortnight months january february april june july "
    "august september october november december mon tue tues wed thu thurs fri sat sun".split()
)


@dataclass(frozen=True)
class NamedThing:
    """A metric, alert or workflow a question names."""

    kind: str
    pk: int
    name: str
    enabled: bool = True

    @property
    def subject(self) -> str:
        return subject_for(self.kind, self.pk)

    @property
    def called(self) -> str:
        """“workflow “Page ops””, as a sentence's object."""
        return f"{self.kind} {quoted(self.name)}"


@dataclass
class NameLookup:
    """What a question's words matched among the organization's names."""

    target: NamedThing | None = None
    ambiguous: list[NamedThing] = field(default_factory=list)
    suggested: list[NamedThing] = field(default_factory=list)
    unknown: str = ""  # the words that named nothing known, when there are any

    @property
    def question(self) -> str:
        """What to ask back, when the question did not name one thing."""
        if self.ambiguous:
            return did_you_mean(self.ambiguous)
        if self.suggested:
            return did_you_mean(self.suggested)
        if self.unknown:
            return f"I don't know {quoted(self.unknown)} here."
        return ""


def org_names(organization, kinds: Iterable[str]) -> list[NamedThing]:
    """Every name of these kinds in the organization, in one query (a UNION
    ALL of each kind's table, by organization)."""
    queries = [
        definition_model(kind)
        .objects.filter(organization=organization)
        .annotate(definition_kind=Value(str(kind), output_field=CharField()))
        .values_list("definition_kind", "pk", "name", "enabled")
        .order_by()
        for kind in kinds
    ]
    rows = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
    return [NamedThing(*row) for row in rows]


def find_name(text: str, organization, kinds: Sequence[str] = NAMED_KINDS) -> NameLookup:
    """The definition `text` (lower case) is about; see the module's doc."""
    candidates = org_names(organization, kinds)
    if not candidates:
        return NameLookup()
    return resolve_name(text, candidates)


def resolve_name(text: str, candidates: list[NamedThing]) -> NameLookup:
    words = [word.removesuffix("'s") for word in _WORD.findall(text)]
    wanted = wanted_kinds(text, words)
    spelled = _spelled(text, candidates)
    if spelled:
        return _first_spelled(spelled, wanted)
    close = _typos(words, candidates, set(_NUMBER.findall(text))) or _references(words, candidates)
    close = _prefer(close, wanted)
    if close:
        return _one_or_ask(close)
    telling = [w for w in words if w not in FILLER and len(w) > 2 and not w.isdigit()]
    if not telling:
        return NameLookup()
    suggested = _prefer(_sharing_a_word(telling, candidates), wanted) or _closest(telling, candidates)
    return NameLookup(suggested=suggested, unknown=" ".join(telling))


def wanted_kinds(text: str, words: list[str] | None = None) -> set[str]:
    """The kinds the question names (“the … alert”) or its verb is about."""
    words = words if words is not None else _WORD.findall(text)
    named = {KIND_WORDS[w] for w in words if w in KIND_WORDS}
    return named or {kind for pattern, kind in _VERB_KINDS if pattern.search(text)}


def _prefer(things: list[NamedThing], kinds: set[str]) -> list[NamedThing]:
    of_kind = [thing for thing in things if thing.kind in kinds]
    return of_kind or things


def _one_or_ask(things: list[NamedThing]) -> NameLookup:
    unique = _sorted({(t.kind, t.name.lower()): t for t in things}.values())
    return NameLookup(unique[0]) if len(unique) == 1 else NameLookup(ambiguous=unique)


# --- Spelled out -----------------------------------------------------------------


def _spelled(text: str, candidates: list[NamedThing]) -> list[tuple[int, int, NamedThing]]:
    """Names the question spells, with where: (start, end, name); a name
    inside a longer one spelled at the same place (“Orders” in “Open
    orders”) is not a mention of its own."""
    found = []
    for thing in candidates:
        lowered = thing.name.lower()
        if lowered not in text:  # spares a pattern per name for most names
            continue
        for match in re.finditer(rf"(?<![\w-]){re.escape(lowered)}(?![\w-])", text):
            found.append((match.start(), match.end(), thing))
    return [
        (start, end, thing)
        for start, end, thing in found
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in found)
    ]


def _first_spelled(spelled: list[tuple[int, int, NamedThing]], wanted: set[str]) -> NameLookup:
    first = min(start for start, _, _ in spelled)
    at_first = [thing for start, _, thing in spelled if start == first]
    return _one_or_ask(_prefer(at_first, wanted))


# --- Typos -----------------------------------------------------------------------


def _typos(words: list[str], candidates: list[NamedThing], numbers: set[str]) -> list[NamedThing]:
    """Names a run of the question's words is a typo of (“notfy on call”),
    the best ones. A name's numbers must be in the question: “Orders 17” is
    never a typo for “Orders 510”."""
    by_lower: dict[str, list[NamedThing]] = {}
    for thing in candidates:
        by_lower.setdefault(thing.name.lower(), []).append(thing)
    choices = list(by_lower)
    lengths = {name.count(" ") + 1 for name in choices}
    best: dict[str, float] = {}
    for window in _windows(words, lengths):
        for name, score, _ in process.extract(
            window, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None
        ):
            best[name] = max(best.get(name, 0.0), score)
    # Checked on the few close names only, not on every name.
    best = {name: score for name, score in best.items() if set(_NUMBER.findall(name)) <= numbers}
    if not best:
        return []
    top = max(best.values())
    return [thing for name, score in best.items() if top - score < TIE for thing in by_lower[name]]


def _windows(words: list[str], lengths: set[int]) -> set[str]:
    """Runs of the question's words as long as a name (one word more or less)."""
    sizes = {size + delta for size in lengths for delta in (-1, 0, 1) if size + delta >= 1}
    return {
        " ".join(words[start : start + size])
        for size in sizes
        for start in range(max(1, len(words) - size + 1))
    }


# --- References --------------------------------------------------------------------


def _references(words: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    """Names referred to by a word and a kind (“the revenue alert”, “the
    orders alert”), or by two or more of their words (“piling orders”)."""
    found = []
    for position, word in enumerate(words):
        kind = KIND_WORDS.get(word)
        if kind is None or position == 0:
            continue
        before = words[position - 1]
        if before in FILLER or len(before) < 3:
            continue
        found += [t for t in candidates if t.kind == kind and before in _name_words(t)]
    if found:
        return found
    telling = {w for w in words if w not in FILLER and len(w) > 2}
    shared = {thing: len(telling & _name_words(thing)) for thing in candidates}
    most = max(shared.values(), default=0)
    return [thing for thing, count in shared.items() if count >= 2 and count == most]


def _name_words(thing: NamedThing) -> set[str]:
    return set(_WORD.findall(thing.name.lower()))


# --- Suggestions -------------------------------------------------------------------


def _sharing_a_word(telling: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    """Names sharing one of the question's telling words: suggested, never picked."""
    asked = set(telling)
    return _sorted(thing for thing in candidates if asked & _name_words(thing))


def _closest(telling: list[str], candidates: list[NamedThing]) -> list[NamedThing]:
    by_lower = {thing.name.lower(): thing for thing in candidates}
    near = process.extract(
        " ".join(telling),
        list(by_lower),
        scorer=fuzz.token_set_ratio,
        score_cutoff=SUGGESTION_CUTOFF,
        limit=3,
    )
    return [by_lower[name] for name, _, _ in near]


def _sorted(things: Iterable[NamedThing]) -> list[NamedThing]:
    return sorted(things, key=lambda thing: (thing.name.lower(), thing.kind))


def did_you_mean(things: list[NamedThing]) -> str:
    kinds = {thing.kind for thing in things}
    shown = [_shown(thing, len(kinds) > 1) for thing in things]
    unique = list(dict.fromkeys(shown))
    if len(unique) > MAX_SUGGESTED:
        others = len(unique) - MAX_SUGGESTED + 1
        listed = ", ".join(unique[: MAX_SUGGESTED - 1])
        return f"Did you mean {listed} or one of {others} others? Name it in full."
    return f"Did you mean {join_phrases(unique, 'or')}?"


def _shown(thing: NamedThing, with_kind: bool) -> str:
    shown = thing.called if with_kind else quoted(thing.name)
    return shown if thing.enabled else f"{shown} (disabled)"
