"""Where a trace sits in its chain, as exporters name it.

OpenTelemetry shows a chain as one trace: a trace's span has its first
parent's span as parent, so every span of a chain shares the trace id of the
chain's top (the trace reached by following first parents). OpenLineage knows
metric, alert and workflow runs; a step stands for its workflow's run.

A process learns each trace as it starts, so the chains it runs cost no
query; a parent it has not seen (a re-run of an old failure, a back-fill)
is looked up with its whole chain in one query.
"""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from lineage.observability.listeners import TraceRecord
from lineage.observability.models import TRACE_DB, ExecutionTrace, TraceType
from lineage.tenancy.models import Organization

# Traces remembered per process: a chain's parents are recent.
REMEMBERED = 20_000


def job_name(trace_type: str, name: str) -> str:
    """“metric.Daily revenue”: a definition's OpenLineage job (kinds may share names)."""
    return f"{trace_type}.{name}"


@dataclass(frozen=True)
class ChainLink:
    """What an exporter needs to point at a trace from another one."""

    trace_id: uuid.UUID
    org_id: int
    root_id: uuid.UUID  # the top of its chain of first parents
    run_id: uuid.UUID  # the OpenLineage run standing for it (a step: its workflow's)
    job: str  # that run's job


class Chains:
    """The chain links of the traces a process has seen, and a lookup for
    the others. Safe to share between threads."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._links: OrderedDict[uuid.UUID, ChainLink] = OrderedDict()
        self._remembered = remembered
        self._lock = threading.Lock()

    def learn(self, record: TraceRecord) -> ChainLink:
        """The link of a trace that just started (its parents are known or looked up)."""
        parents = record.dependencies[:1]
        parent = self.links(parents).get(parents[0]) if parents else None
        link = _link(record.id, record.org_id, record.trace_type, record.name, parent)
        self._remember([link])
        return link

    def links(self, trace_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ChainLink]:
        """The links of these traces that exist; one query for all those not
        seen before, whatever their number."""
        wanted = list(dict.fromkeys(trace_ids))
        with self._lock:
            found = {i: self._links[i] for i in wanted if i in self._links}
        unknown = [i for i in wanted if i not in found]
        if unknown:
            looked_up = _look_up(unknown)
            self._remember(looked_up.values())
            found.update({i: looked_up[i] for i in unknown if i in looked_up})
        return found

    def parents_of(self, record: TraceRecord) -> list[ChainLink]:
        """The links of a trace's parents that still exist, first parent first."""
        found = self.links(record.dependencies)
        return [found[p] for p in dict.fromkeys(record.dependencies) if p in found]

    def cause_of(self, record: TraceRecord, link: ChainLink) -> tuple[ChainLink | None, ChainLink | None]:
        """The run that caused this one (its first parent's) and the top of
        its chain; (None, None) for a run nothing caused."""
        first = record.dependencies[:1]
        parent = self.links(first).get(first[0]) if first else None
        if parent is None:
            return None, None
        return parent, self.links([link.root_id]).get(link.root_id)

    def _remember(self, links: Iterable[ChainLink]) -> None:
        with self._lock:
            for link in links:
                self._links[link.trace_id] = link
                self._links.move_to_end(link.trace_id)
            while len(self._links) > self._remembered:
                self._links.popitem(last=False)


def _link(
    trace_id: uuid.UUID, org_id: int, trace_type: str, name: str, parent: ChainLink | None
) -> ChainLink:
    if parent is not None and parent.org_id != org_id:
        parent = None  # a chain never leaves its organization (nor does a lineage)
    root_id = parent.root_id if parent else trace_id
    if trace_type == TraceType.STEP and parent is not None:
        return ChainLink(trace_id, org_id, root_id, parent.run_id, parent.job)
    return ChainLink(trace_id, org_id, root_id, trace_id, job_name(trace_type, name))


def _look_up(trace_ids: list[uuid.UUID]) -> dict[uuid.UUID, ChainLink]:
    """The links of these traces and of every trace up their chains (read on
    the traces connection, outside whatever transaction the caller is in)."""
    rows = ExecutionTrace.objects.using(TRACE_DB).first_parent_paths(trace_ids)
    by_id = {row[0]: row for row in rows}
    links: dict[uuid.UUID, ChainLink] = {}
    for trace_id in by_id:
        path = []  # this trace, then up its first parents until one is known
        step: uuid.UUID | None = trace_id
        while step in by_id and step not in links and step not in path:
            path.append(step)
            step = by_id[step][4]
        parent = links.get(step) if step is not None else None
        for node in reversed(path):
            _, org_id, trace_type, name, _ = by_id[node]
            parent = links[node] = _link(node, org_id, trace_type, name, parent)
    return links


class OrganizationNames:
    """Organization slugs by id, read once per process."""

    def __init__(self) -> None:
        self._slugs: dict[int, str] = {}

    def slug(self, org_id: int) -> str:
        if org_id not in self._slugs:
            self._slugs.update(Organization.objects.using(TRACE_DB).values_list("id", "slug"))
        return self._slugs.get(org_id, str(org_id))
