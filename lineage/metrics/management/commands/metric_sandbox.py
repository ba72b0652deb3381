from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DatabaseError, connections, transaction

from lineage.metrics.sandbox import METRICS_DB, drop_roles, provision, provisioning_sql, sandbox_for
from lineage.observability.output import TerminalCommand
from lineage.tenancy.lookup import NotFound, resolve_organization
from lineage.tenancy.models import Organization


class Command(TerminalCommand):
    help = (
        "Create or repair each organization's metric sandbox: a schema for the data its metrics "
        "read and a LOGIN role that reads only that schema (metric SQL runs as it). Idempotent; "
        "`make run` and `make test` run it. With --sql, print the statements instead, for a "
        "database administrator to run where the app's role cannot create roles."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", help="Only this organization (slug); default: all.")
        parser.add_argument("--sql", action="store_true", help="Print the SQL, change nothing.")
        parser.add_argument(
            "--drop", action="store_true", help="Drop every metric role of this database."
        )

    def handle(self, *args, org: str | None, sql: bool, drop: bool, **options) -> None:
        if drop:
            roles = drop_roles()
            self.stdout.write(f"Dropped {len(roles)} metric role(s).")
            return
        organizations = self._organizations(org)
        if sql:
            self._print_sql(organizations)
            return
        try:
            with transaction.atomic(using=METRICS_DB):
                for organization in organizations:
                    provision(organization.pk)
        except DatabaseError as exc:
            raise CommandError(
                f"Could not create the metric roles ({str(exc).strip().splitlines()[0]}). "
                "Run `python manage.py metric_sandbox --sql` and have an administrator run it."
            ) from None
        for organization in organizations:
            sandbox = sandbox_for(organization.pk)
            self.stdout.write(
                f"{organization.slug}: schema {sandbox.schema}, role {sandbox.role}"
            )
        self.stdout.write(f"{len(organizations)} organization sandbox(es) ready.")

    def _organizations(self, slug: str | None) -> list[Organization]:
        if slug is None:
            return list(Organization.objects.order_by("pk"))
        try:
            return [resolve_organization(slug)]
        except NotFound as exc:
            raise CommandError(str(exc)) from None

    def _print_sql(self, organizations: list[Organization]) -> None:
        connection = connections[METRICS_DB]
        connection.ensure_connection()
        owner = connection.settings_dict.get("USER") or connection.connection.info.user
        for organization in organizations:
            self.stdout.write(f"-- {organization.slug}")
            statements = provisioning_sql(
                sandbox_for(organization.pk), owner=owner, connection=connection.connection
            )
            for statement in statements:
                self.stdout.write(statement.as_string(connection.connection) + ";")
