"""Metric SQL: checking that a query is one SELECT, and running it on the
metrics connection, read-only and time-boxed."""
from __future__ import annotations

import sqlparse
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, transaction

METRICS_DB = "metrics"


class MetricError(Exception):
    """A metric could not produce one number; the message says what came back."""


def validate_single_select(sql: str) -> None:
    """A metric query is one SELECT (or WITH … SELECT) statement, nothing else."""
    statements = [s for s in sqlparse.parse(sql) if s.token_first(skip_cm=True) is not None]
    if len(statements) != 1:
        raise ValidationError(
            f"A metric query must be exactly one SELECT statement; found {len(statements)}."
        )
    kind = statements[0].get_type()
    if kind != "SELECT":
        raise ValidationError(f"A metric query must be a SELECT statement, not {kind}.")


def run_metric_sql(sql: str) -> object:
    """The single value `sql` returns; MetricError for anything else (no
    rows, several, several columns, or the query failing)."""
    validate_single_select(sql)
    timeout_ms = int(settings.LINEAGE_METRIC_TIMEOUT_SECONDS * 1000)
    connection = connections[METRICS_DB]
    # Read-only and time-boxed: a metric query can neither change data nor
    # hold a connection forever. Both settings are local to the transaction,
    # and set in one round trip (SET TRANSACTION READ ONLY and a second
    # statement cost one more wait on the server per metric run).
    with transaction.atomic(using=METRICS_DB), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('transaction_read_only', 'on', true),"
            " set_config('statement_timeout', %s, true)",
            [str(timeout_ms)],
        )
        try:
            cursor.execute(sql)
        except DatabaseError as exc:
            raise MetricError(f"the query failed: {str(exc).strip()}") from None
        if cursor.description is None:
            raise MetricError("the query returned no result set")
        columns = len(cursor.description)
        rows = cursor.fetchmany(2)
    if len(rows) != 1:
        count = "no rows" if not rows else "more than one row"
        raise MetricError(f"expected one numeric value, the query returned {count}")
    if columns != 1:
        raise MetricError(f"expected one numeric value, the query returned {columns} columns")
    return rows[0][0]
