"""Each organization's metric sandbox: a schema for the data its metrics read
and a LOGIN role that reads only that schema.

Metric SQL never runs as the application's role. It connects as its
organization's role — no superuser, no CREATEDB/CREATEROLE, a member of no
role (so none of pg_read_server_files, pg_write_server_files,
pg_execute_server_program), no privilege on the application's tables — whose
search_path is its schema. A SET ROLE from the application's session would
not do: `set_config('role', …)` inside a SELECT undoes it; a session that
logged in as the role cannot become anyone else.

Roles are global to a PostgreSQL server, so their names carry a tag of the
database they belong to (test databases side by side on one server never
share one). Passwords are derived from SECRET_KEY, so nothing new is stored:
after changing SECRET_KEY, run `manage.py metric_sandbox` again (a metric
whose login fails re-provisions its role when the app may).

Connections are kept per thread and organization and reset with DISCARD ALL
after every metric, so nothing a query set (a `set_config(…, false)`, an
advisory lock, a prepared statement) reaches the next one.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

# The database metric SQL reads: METRICS_DATABASE_URL when set, else the app's.
METRICS_DB = "metrics" if "metrics" in settings.DATABASES else "default"
# Connections kept per thread; the least recently used one is closed beyond this.
CONNECTIONS_PER_THREAD = 8
CONNECT_TIMEOUT_SECONDS = 10
# Login failures that mean "this role is missing or has an old password".
_LOGIN_REFUSED = {"28000", "28P01"}


class MetricError(Exception):
    """A metric could not produce one number; the message says what came back."""


@dataclass(frozen=True)
class Sandbox:
    organization_id: int
    role: str
    schema: str

    @property
    def password(self) -> str:
        key = settings.SECRET_KEY.encode()
        return hmac.new(key, f"lineage metric role {self.role}".encode(), hashlib.sha256).hexdigest()


def database_tag(alias: str | None = None) -> str:
    """Eight hex digits naming the metrics database, for role names."""
    name = str(connections[alias or METRICS_DB].settings_dict["NAME"])
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def role_prefix() -> str:
    return f"lineage_{database_tag()}_org"


def sandbox_for(organization_id: int) -> Sandbox:
    organization_id = int(organization_id)
    return Sandbox(
        organization_id, f"{role_prefix()}{organization_id}", f"lineage_org_{organization_id}"
    )


# --- Provisioning --------------------------------------------------------------


def provisioning_sql(
    sandbox: Sandbox, *, owner: str, connection: psycopg.Connection
) -> list[sql.Composable]:
    """The statements that create or repair an organization's schema and role
    (idempotent). `owner` is the role that owns the schema and creates its
    tables (the app's). The password goes as a SCRAM verifier, never in clear."""
    role, schema = sql.Identifier(sandbox.role), sql.Identifier(sandbox.schema)
    verifier = connection.pgconn.encrypt_password(
        sandbox.password.encode(), sandbox.role.encode(), b"scram-sha-256"
    ).decode()
    timeout_ms = max(1, int(settings.LINEAGE_METRIC_TIMEOUT_SECONDS * 1000))
    return [
        sql.SQL(
            "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN"
            " CREATE ROLE {role}; END IF; END$$"
        ).format(name=sql.Literal(sandbox.role), role=role),
        sql.SQL(
            "ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
            " NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 PASSWORD {verifier}"
        ).format(role=role, verifier=sql.Literal(verifier)),
        # A member of no role: whatever someone granted it is taken back.
        sql.SQL(
            "DO $$DECLARE granted name; BEGIN FOR granted IN"
            " SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = {name}"
            " LOOP EXECUTE format('REVOKE %I FROM %I', granted, {name}); END LOOP; END$$"
        ).format(name=sql.Literal(sandbox.role)),
        sql.SQL("ALTER ROLE {role} SET search_path = {schema}").format(role=role, schema=schema),
        sql.SQL("ALTER ROLE {role} SET default_transaction_read_only = on").format(role=role),
        sql.SQL("ALTER ROLE {role} SET statement_timeout = {ms}").format(
            role=role, ms=sql.Literal(f"{timeout_ms}ms")
        ),
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner}").format(
            schema=schema, owner=sql.Identifier(owner)
        ),
        sql.SQL("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC").format(schema=schema),
        sql.SQL("GRANT USAGE ON SCHEMA {schema} TO {role}").format(schema=schema, role=role),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}").format(
            schema=schema, role=role
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
            " GRANT SELECT ON TABLES TO {role}"
        ).format(owner=sql.Identifier(owner), schema=schema, role=role),
    ]


def provision(organization_id: int, connection=None) -> Sandbox:
    """Create or repair the organization's schema and role, on `connection`
    (a Django connection; its transaction, if any, holds the change)."""
    connection = connection or connections[METRICS_DB]
    sandbox = sandbox_for(organization_id)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        # Two provisioners of one role at once would both try CREATE ROLE.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('lineage metric sandbox'))")
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        for statement in provisioning_sql(sandbox, owner=owner, connection=connection.connection):
            cursor.execute(statement.as_string(connection.connection))
    return sandbox


def _provision_now(organization_id: int) -> None:
    """Provision on a connection of its own, committed at once, so a metric
    can log in as the role whatever transaction its caller is in."""
    params = _connection_params(connections[METRICS_DB].settings_dict)
    try:
        with psycopg.connect(**params, autocommit=False) as admin:
            admin.execute("SELECT pg_advisory_xact_lock(hashtext('lineage metric sandbox'))")
            owner = admin.execute("SELECT current_user").fetchone()[0]
            sandbox = sandbox_for(organization_id)
            for statement in provisioning_sql(sandbox, owner=owner, connection=admin):
                admin.execute(statement)
    except psycopg.Error as exc:
        raise MetricError(
            f"the organization's metric role could not be created ({str(exc).strip()}); "
            "run `python manage.py metric_sandbox --sql` and have a database administrator "
            "run what it prints"
        ) from None


def drop_sandbox(organization_id: int) -> None:
    """Drop an organization's metric schema (its data with it) and role: for
    an organization that is gone for good (the benchmark's)."""
    close_all_connections()
    sandbox = sandbox_for(organization_id)
    quote = connections[METRICS_DB].ops.quote_name
    with connections[METRICS_DB].cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote(sandbox.schema)} CASCADE")
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [sandbox.role])
        if cursor.fetchone():
            cursor.execute(f"DROP OWNED BY {quote(sandbox.role)}")
            cursor.execute(f"DROP ROLE {quote(sandbox.role)}")


def drop_roles() -> list[str]:
    """Drop every metric role of this database (their grants first). For
    removing Lineage, and for test databases before they are dropped."""
    close_all_connections()
    with connections[METRICS_DB].cursor() as cursor:
        cursor.execute(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) ORDER BY rolname",
            [role_prefix()],
        )
        roles = [row[0] for row in cursor.fetchall()]
        for role in roles:
            identifier = connections[METRICS_DB].ops.quote_name(role)
            cursor.execute(f"DROP OWNED BY {identifier}")
            cursor.execute(f"DROP ROLE {identifier}")
    return roles


# --- Connections -----------------------------------------------------------------

_local = threading.local()
_every_connection: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()
_every_connection_lock = threading.Lock()


def _connection_params(db: dict, *, user: str | None = None, password: str | None = None) -> dict:
    params = {
        "dbname": db["NAME"],
        "user": user or db.get("USER") or None,
        "password": password if user else db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": "lineage metric",
    }
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if option in db.get("OPTIONS", {}):
            params[option] = db["OPTIONS"][option]
    return {key: value for key, value in params.items() if value is not None}


def _connect(sandbox: Sandbox) -> psycopg.Connection:
    params = _connection_params(
        connections[METRICS_DB].settings_dict, user=sandbox.role, password=sandbox.password
    )
    try:
        connection = psycopg.connect(**params, autocommit=True, prepare_threshold=None)
    except psycopg.OperationalError as exc:
        if not _login_refused(exc):
            raise MetricError(f"cannot connect to the metrics database: {exc}") from None
        _provision_now(sandbox.organization_id)
        try:
            connection = psycopg.connect(**params, autocommit=True, prepare_threshold=None)
        except psycopg.OperationalError as again:
            raise MetricError(f"cannot log in as the metric role: {again}") from None
    with _every_connection_lock:
        _every_connection.add(connection)
    return connection


def _login_refused(exc: psycopg.OperationalError) -> bool:
    text = str(exc)
    return (
        exc.sqlstate in _LOGIN_REFUSED
        or "does not exist" in text
        or "password authentication failed" in text
    )


def _cache() -> OrderedDict[int, psycopg.Connection]:
    if not hasattr(_local, "connections"):
        _local.connections = OrderedDict()
    return _local.connections


@contextmanager
def metric_connection(organization_id: int) -> Iterator[psycopg.Connection]:
    """A session logged in as the organization's metric role, with nothing
    left from the metric before; reset (DISCARD ALL) once the caller is done."""
    cache = _cache()
    sandbox = sandbox_for(organization_id)
    connection = cache.pop(sandbox.organization_id, None)
    if connection is None or connection.closed:
        connection = _connect(sandbox)
    try:
        yield connection
    finally:
        if _reset(connection):
            cache[sandbox.organization_id] = connection
            while len(cache) > CONNECTIONS_PER_THREAD:
                cache.popitem(last=False)[1].close()


def _reset(connection: psycopg.Connection) -> bool:
    """Back to the role's defaults, or closed: True when it may be reused."""
    try:
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            connection.execute("ROLLBACK")
        connection.execute("DISCARD ALL")
        return True
    except psycopg.Error:
        connection.close()
        return False


def close_all_connections() -> None:
    """Close every metric connection of this process (every thread's)."""
    with _every_connection_lock:
        for connection in list(_every_connection):
            connection.close()
        _every_connection.clear()
    _cache().clear()
