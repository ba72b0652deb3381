"""Metric SQL: checking that a query is one SELECT with PostgreSQL's own
grammar, and running it in the organization's sandbox (see sandbox.py):
as the organization's own role, with the extended protocol, read-only and
time-boxed.

The check and the confinement do not depend on each other. The check is
for people (a clear form error before saving); the role, the read-only
transaction and the one-statement protocol hold even if the check is wrong.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from pglast import ast, parse_sql
from pglast.parser import ParseError

from lineage.metrics.sandbox import MetricError, metric_connection

# Statements that change data; one anywhere in the tree (a CTE, a subquery's
# CTE) makes the query something other than a read.
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def parse_metric_sql(sql: str) -> ast.SelectStmt:
    """The query's one SELECT statement, as PostgreSQL parses it.
    ValidationError, saying what is wrong, for anything else."""
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise ValidationError(f"PostgreSQL cannot parse this query: {exc}.") from None
    if len(statements) != 1:
        raise ValidationError(
            f"A metric query must be exactly one SELECT statement; found {len(statements)}."
        )
    statement = statements[0].stmt
    if not isinstance(statement, ast.SelectStmt):
        raise ValidationError(
            f"A metric query must be a SELECT statement, not {_statement_kind(statement)}."
        )
    for node in _nodes(statement):
        if isinstance(node, _WRITES):
            raise ValidationError(
                f"A metric query only reads: it cannot contain {_statement_kind(node)}."
            )
        if isinstance(node, ast.SelectStmt) and node.intoClause is not None:
            raise ValidationError("A metric query cannot SELECT … INTO a table.")
        if isinstance(node, ast.SelectStmt) and node.lockingClause:
            raise ValidationError("A metric query cannot lock rows (FOR UPDATE / FOR SHARE).")
    return statement


def validate_single_select(sql: str) -> None:
    """A metric query is one SELECT (or WITH … SELECT) statement that only reads."""
    parse_metric_sql(sql)


@lru_cache(maxsize=4096)
def _checked_before_run(sql: str) -> None:
    """The check, remembered for queries that passed it: a scheduled metric
    runs the same text every time, and parsing it costs 0.3 ms."""
    parse_metric_sql(sql)


def _statement_kind(node: ast.Node) -> str:
    """DELETE for a DeleteStmt, CREATE TABLE for a CreateStmt …, for people."""
    names = {
        "InsertStmt": "INSERT",
        "UpdateStmt": "UPDATE",
        "DeleteStmt": "DELETE",
        "MergeStmt": "MERGE",
        "CreateStmt": "CREATE TABLE",
        "CreateTableAsStmt": "CREATE TABLE AS",
        "TransactionStmt": "a transaction command",
        "CopyStmt": "COPY",
        "VariableSetStmt": "SET",
    }
    name = type(node).__name__
    return names.get(name, name.removesuffix("Stmt").upper() or name)


def _nodes(node: ast.Node) -> Iterator[ast.Node]:
    """Every node of the tree under `node`, itself included."""
    yield node
    for attribute in node:
        yield from _children(getattr(node, attribute))


def _children(value: object) -> Iterator[ast.Node]:
    if isinstance(value, ast.Node):
        yield from _nodes(value)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _children(item)


def run_metric_sql(sql: str, organization_id: int) -> object:
    """The single value `sql` returns when run as the organization's metric
    role; MetricError for anything else (no rows, several, several columns,
    the query failing or being refused)."""
    try:
        _checked_before_run(sql)
    except ValidationError as exc:
        raise MetricError(" ".join(exc.messages)) from None
    # A kept session may have been closed by the server since (a restart, a
    # failover): found out before the query is sent, a fresh one is tried.
    for attempt in range(2):
        with metric_connection(organization_id) as connection:
            try:
                _begin(connection)
            except psycopg.OperationalError as exc:
                if attempt:
                    raise MetricError(f"the metrics database is unreachable: {exc}") from None
                continue
            return _single_value(_run_in_transaction(connection, sql))
    raise AssertionError("unreachable")


def execute_one_statement(
    connection: psycopg.Connection, sql: str
) -> tuple[int, list[tuple]]:
    """Run `sql` in a read-only, time-boxed transaction and return its column
    count and at most two rows.

    The query goes with the extended protocol (psycopg's stream() always
    sends Parse/Bind/Execute), where PostgreSQL itself refuses a second
    statement: `SELECT 1; SELECT 2` fails here even if it got past the check.
    Rows come one at a time, and a query that returns millions is cancelled
    after the second instead of being read into memory.
    """
    _begin(connection)
    return _run_in_transaction(connection, sql)


def _begin(connection: psycopg.Connection) -> None:
    timeout_ms = max(1, int(settings.LINEAGE_METRIC_TIMEOUT_SECONDS * 1000))
    # Our own fixed statements, in one round trip. standard_conforming_strings
    # is pinned so the server reads quotes the way the check's parser did.
    connection.execute(
        "BEGIN READ ONLY;"
        f" SET LOCAL statement_timeout = {timeout_ms};"
        " SET LOCAL standard_conforming_strings = on"
    )


def _run_in_transaction(connection: psycopg.Connection, sql: str) -> tuple[int, list[tuple]]:
    rows: list[tuple] = []
    columns = 0
    try:
        with connection.cursor() as cursor:
            for row in cursor.stream(sql):
                columns = len(row)
                rows.append(row)
                if len(rows) == 2:
                    break
            else:
                columns = len(cursor.description or ())
    except psycopg.Error as exc:
        raise MetricError(f"the query failed: {_message(exc)}") from None
    finally:
        if not connection.closed:
            connection.execute("ROLLBACK")  # read-only: there is nothing to commit
    return columns, rows


def _single_value(result: tuple[int, list[tuple]]) -> object:
    columns, rows = result
    if len(rows) != 1:
        count = "no rows" if not rows else "more than one row"
        raise MetricError(f"expected one numeric value, the query returned {count}")
    if columns != 1:
        raise MetricError(f"expected one numeric value, the query returned {columns} columns")
    return rows[0][0]


def _message(exc: psycopg.Error) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
