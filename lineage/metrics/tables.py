"""The tables a metric's SQL reads, found with PostgreSQL's own parser
(pglast), so its runs can name their input datasets: “Daily revenue reads
public.demo_orders”.

This says what the query names, not what it may do: checking that a metric
query is one read-only SELECT is `sql.py`'s business.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pglast.parser import ParseError
from pglast.visitors import referenced_relations

from lineage.metrics.sandbox import sandbox_for

# A name PostgreSQL resolves through the search path. Metric SQL runs with
# its organization's schema as the search path (sandbox.py): callers pass it.
DEFAULT_SCHEMA = "public"
# One part of a dotted name: a quoted identifier (with "" for a quote) or a bare one.
_NAME_PART = re.compile(r'"(?:[^"]|"")*"|[^."]+')


def tables_read(sql: str, default_schema: str = DEFAULT_SCHEMA) -> list[str]:
    """The tables and views `sql` reads, as `schema.table`, sorted; CTE
    names and functions are not tables; an unqualified name is in
    `default_schema`. Empty for SQL that does not parse (the run reports
    that error itself)."""
    return list(_tables_read(sql, default_schema))


@lru_cache(maxsize=4096)
def _tables_read(sql: str, default_schema: str) -> tuple[str, ...]:
    # Remembered: a scheduled metric runs the same text every time.
    try:
        names = referenced_relations(sql)
    except ParseError:
        return ()
    return tuple(sorted({_qualified(name, default_schema) for name in names}))


def metric_tables_read(metric) -> list[str]:
    """The tables a metric's SQL reads, unqualified names in its
    organization's schema (where its SQL finds them)."""
    return tables_read(metric.sql, sandbox_for(metric.organization_id).schema)


def _qualified(name: str, default_schema: str) -> str:
    """`schema.table` from a name as written: an unqualified name gets the
    default schema; a database name in front is dropped (metric SQL reads
    the database it runs on)."""
    parts = _NAME_PART.findall(name)
    if len(parts) == 1:
        parts.insert(0, default_schema)
    return ".".join(parts[-2:])
