"""Metric SQL is hostile input: checked with PostgreSQL's grammar, sent so
that a second statement is impossible, and run as the organization's own
role, which can read its organization's schema and nothing else."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from lineage.execution.runs import run_metric_execution
from lineage.metrics.sandbox import MetricError, metric_connection, provision, sandbox_for
from lineage.metrics.sql import execute_one_statement, validate_single_select
from lineage.observability.models import ExecutionTrace
from tests.factories import make_metric, run_command, traced_db

pytestmark = traced_db

# Each passed the old tokenizer's check: to PostgreSQL '\' is a whole string,
# so the COMMIT and what follows ran outside the read-only transaction.
EXPLOITS = {
    "create a table": "SELECT length('\\'); COMMIT; CREATE TABLE pwned (x int); --')",
    "run a program": "SELECT length('\\'); COMMIT; COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'; --')",
    "become superuser": "SELECT length('\\'); COMMIT; ALTER ROLE CURRENT_USER SUPERUSER; --')",
    "a nested write": "SELECT * FROM (WITH gone AS (DELETE FROM tenancy_organization RETURNING 1) SELECT count(*) FROM gone) AS s",
    "lock rows": "SELECT count(*) FROM (SELECT 1 FROM tenancy_organization FOR UPDATE) AS s",
    "select into": "SELECT 1 INTO pwned",
    "not a select": "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'",
}


def test_each_exploit_is_refused_by_the_check_and_at_run_time(org):
    for name, sql in EXPLOITS.items():
        with pytest.raises(ValidationError):
            validate_single_select(sql)

        run = run_metric_execution(make_metric(org, name=name, sql=sql))

        assert run.error.startswith("MetricError: A metric query"), name
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pwned'), rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (None, True)  # nothing created; the app's role unchanged


def test_the_check_reads_comments_and_quotes_as_postgresql_does(org):
    # Nested comments: one statement to PostgreSQL, so one to the check.
    nested = "SELECT 12 /* outer /* inner */ ; SELECT 2 */"
    validate_single_select(nested)
    assert run_metric_execution(make_metric(org, sql=nested)).value == 12
    assert run_metric_execution(make_metric(org, name="Quote", sql="SELECT length('\\')")).value == 1


def test_a_second_statement_is_refused_by_the_server_itself(org):
    """With the check bypassed, the extended protocol still sends one statement."""
    with metric_connection(org.pk) as session, pytest.raises(MetricError) as refused:
        execute_one_statement(session, "SELECT 1; SELECT 2")
    assert "cannot insert multiple commands into a prepared statement" in str(refused.value)


READS = {
    "password hashes": ("SELECT count(*) FROM public.auth_user", "permission denied for table auth_user"),
    "sessions": ("SELECT count(*) FROM public.django_session", "permission denied for table django_session"),
    "traces": ("SELECT count(*) FROM public.execution_traces", "permission denied for table execution_traces"),
    "definitions": ("SELECT count(*) FROM public.metrics_metric", "permission denied for table metrics_metric"),
    "server files": ("SELECT length(pg_read_file('/etc/passwd'))", "permission denied for function pg_read_file"),
    "large objects": ("SELECT lo_import('/etc/passwd')::int", "permission denied for function lo_import"),
    "another role": ("SELECT length(set_config('role', 'postgres', false))", "permission denied to set role"),
}


def test_metric_sql_cannot_read_the_apps_tables_or_the_server(org):
    """Unqualified, the app's tables are not even found (the role's
    search_path is its schema); named in full, reading them is denied."""
    for name, (sql, message) in READS.items():
        run = run_metric_execution(make_metric(org, name=name, sql=sql))
        assert message in run.error, name
        assert ExecutionTrace.objects.get(pk=run.trace_id).status == "failed"
    unqualified = run_metric_execution(make_metric(org, sql="SELECT count(*) FROM auth_user"))
    assert 'relation "auth_user" does not exist' in unqualified.error


def test_with_the_check_bypassed_the_role_and_the_read_only_transaction_still_hold(org):
    for sql, message in [
        ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'", "to COPY to or from an external program"),
        ("CREATE TABLE pwned (x int)", "read-only transaction"),
        ("SET SESSION AUTHORIZATION postgres", "permission denied"),
    ]:
        with metric_connection(org.pk) as session, pytest.raises(MetricError) as refused:
            execute_one_statement(session, sql)
        assert message in str(refused.value), sql


def test_a_large_object_made_by_a_metric_does_not_outlive_it(org):
    """PostgreSQL 16 refuses lo_from_bytea in a read-only transaction; 15 runs
    it, and the metric's transaction is rolled back, never committed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_largeobject_metadata")
        before = cursor.fetchone()[0]
        run_metric_execution(make_metric(org, sql="SELECT lo_from_bytea(0, 'pwned')::int"))
        cursor.execute("SELECT count(*) FROM pg_largeobject_metadata")
        assert cursor.fetchone()[0] == before


def test_an_organization_reads_its_own_schema_and_not_another_ones(org, other_org):
    for organization, orders in ((org, 3), (other_org, 5)):
        schema = provision(organization.pk).schema
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {schema}.orders AS SELECT generate_series(1, %s) AS id", [orders])
    theirs = sandbox_for(other_org.pk).schema

    assert run_metric_execution(make_metric(org, sql="SELECT count(*) FROM orders")).value == 3
    spy = run_metric_execution(make_metric(org, name="Spy", sql=f"SELECT count(*) FROM {theirs}.orders"))
    assert f"permission denied for schema {theirs}" in spy.error
    assert run_metric_execution(make_metric(other_org, sql="SELECT count(*) FROM orders")).value == 5


def test_the_metric_role_has_no_privilege_beyond_reading(org):
    role = provision(org.pk).role
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT pg_read_server_files, pg_execute_server_program TO {role}")
    run_command("metric_sandbox", "--org", org.slug)  # repairs what someone granted

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin,"
            " (SELECT count(*) FROM pg_auth_members WHERE member = r.oid)"
            " FROM pg_roles AS r WHERE rolname = %s",
            [role],
        )
        assert cursor.fetchone() == (False, False, False, False, True, 0)


def test_session_state_set_by_one_metric_never_reaches_the_next(org):
    setter = make_metric(
        org, name="Setter", sql="SELECT length(set_config('lineage.leak', 'x', false)) FROM pg_advisory_lock(7)"
    )
    reader = make_metric(
        org,
        name="Reader",
        sql="SELECT length(coalesce(nullif(current_setting('lineage.leak', true), ''), ''))"
        " + (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
    )
    assert run_metric_execution(setter).value == 1
    with metric_connection(org.pk) as session:
        pid = session.info.backend_pid
    assert run_metric_execution(reader).value == 0
    with metric_connection(org.pk) as session:
        assert session.info.backend_pid == pid  # the same session, reset


def test_metric_sandbox_command_prints_the_sql_for_an_administrator(org):
    sandbox = sandbox_for(org.pk)
    printed = run_command("metric_sandbox", "--sql")
    assert f'CREATE ROLE "{sandbox.role}"' in printed
    assert f'GRANT USAGE ON SCHEMA "{sandbox.schema}" TO "{sandbox.role}"' in printed
    assert "PASSWORD 'SCRAM-SHA-256$" in printed and sandbox.password not in printed
    assert run_command("metric_sandbox").endswith("1 organization sandbox(es) ready.\n")
    assert run_command("metric_sandbox").endswith("1 organization sandbox(es) ready.\n")


def test_a_session_the_server_closed_is_replaced_before_the_next_metric(org):
    metric = make_metric(org, sql="SELECT 5")
    assert run_metric_execution(metric).value == 5
    with metric_connection(org.pk) as session:
        pid = session.info.backend_pid
    with connection.cursor() as cursor:  # as a restart or an administrator would
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits for it

    assert run_metric_execution(metric).value == 5
    with metric_connection(org.pk) as session:
        assert session.info.backend_pid != pid
