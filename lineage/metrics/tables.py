"""The tables a metric's SQL reads, found with PostgreSQL's own parser
(pglast), so its runs can name their input datasets: “Daily revenue reads
public.demo_orders”.

This says what the query names, not what it may do: checking that a metric
query is one read-only SELECT is `sql.py`'s business.
"""
from __future__ import annotations

import re

from pglast.parser import ParseError
from pglast.visitors import referenced_relations

# A name PostgreSQL resolves through the search path; metric SQL runs with
# the default one, so an unqualified table is in public.
DEFAULT_SCHEMA = "public"
# One part of a dotted name: a quoted identifier (with "" for a quote) or a bare one.
_NAME_PART = re.compile(r'"(?:[^"]|"")*"|[^."]+')


def tables_read(sql: str) -> list[str]:
    """The tables and views `sql` reads, as `schema.table`, sorted; CTE
    names and functions are not tables. Empty for SQL that does not parse
    (the run reports that error itself)."""
    try:
        names = referenced_relations(sql)
    except ParseError:
        return []
    return sorted({_qualified(name) for name in names})


def _qualified(name: str) -> str:
    """`schema.table` from a name as written: an unqualified name gets the
    default schema; a database name in front is dropped (metric SQL reads
    the database it runs on)."""
    parts = _NAME_PART.findall(name)
    if len(parts) == 1:
        parts.insert(0, DEFAULT_SCHEMA)
    return ".".join(parts[-2:])
