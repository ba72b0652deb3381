from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connections, transaction
from django.utils import timezone

from lineage.alerts.models import AlertRule, Operator, Severity
from lineage.metrics.models import Metric, MetricKind
from lineage.metrics.sandbox import METRICS_DB, provision
from lineage.metrics.schedules import previous_tick
from lineage.tenancy.models import Membership, Organization, Role
from lineage.workflows.models import Step, StepKind, Workflow

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
# A local port nothing listens on: the demo's failing webhook.
CLOSED_WEBHOOK_URL = "http://127.0.0.1:9/page-ops"

ORDERS = [
    # (amount, status)
    *[(1070, "paid")] * 12,
    (0, "paid"),
    *[(45, "open")] * 7,
    (310, "refunded"),
]


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo organization “acme”: user demo/demo (its owner), an orders "
        "table in acme's metric schema, "
        "two metric → alert → workflow chains (one succeeds, one fails). Idempotent."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        acme, _ = Organization.objects.update_or_create(slug="acme", defaults={"name": "Acme"})
        user = self._demo_user()
        Membership.objects.update_or_create(
            user=user, organization=acme, defaults={"role": Role.OWNER}
        )
        self._orders_table(acme)
        revenue = self._metric(
            acme, "Daily revenue", "SELECT sum(amount) FROM demo_orders WHERE status = 'paid'"
        )
        open_orders = self._metric(
            acme, "Open orders", "SELECT count(*) FROM demo_orders WHERE status = 'open'"
        )
        notify = self._workflow(
            acme,
            "Notify on-call",
            [
                (StepKind.LOG, "Log the spike", {"message": "$metric is $value (over $threshold)"}),
                (
                    StepKind.EMAIL,
                    "E-mail on-call",
                    {
                        "to": ["oncall@acme.example"],
                        "subject": "$alert: $metric is $value",
                        "body": "$metric reached $value, over the threshold of $threshold.",
                    },
                ),
            ],
        )
        page_ops = self._workflow(
            acme,
            "Page ops",
            [
                (StepKind.WEBHOOK, "Page the ops channel", {"url": CLOSED_WEBHOOK_URL, "timeout": 3}),
                (StepKind.LOG, "Log the page", {"message": "paged ops about $metric"}),
            ],
        )
        self._alert(acme, "Revenue spike", revenue, Operator.GT, 10_000, Severity.WARNING, notify)
        self._alert(acme, "Orders piling up", open_orders, Operator.GT, 5, Severity.CRITICAL, page_ops)
        self.stdout.write(
            f"Demo ready: organization “acme”, sign in as {DEMO_USER} / {DEMO_PASSWORD}."
        )

    def _demo_user(self):
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USER, defaults={"email": "demo@acme.example"}
        )
        # An owner of acme, nothing more: the admin is for staff (see README).
        user.is_staff = user.is_superuser = False
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.save()
        return user

    def _orders_table(self, acme: Organization) -> None:
        """demo_orders in acme's metric schema, where only acme's metrics
        read it (a table left in public by an older seed moves there)."""
        connection = connections[METRICS_DB]
        sandbox = provision(acme.pk, connection)
        schema, role = (connection.ops.quote_name(n) for n in (sandbox.schema, sandbox.role))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_regclass('public.demo_orders') IS NOT NULL,"
                " to_regclass(%s) IS NOT NULL",
                [f"{schema}.demo_orders"],
            )
            in_public, in_schema = cursor.fetchone()
            if in_public and not in_schema:
                cursor.execute(f"ALTER TABLE public.demo_orders SET SCHEMA {schema}")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {schema}.demo_orders ("
                " id serial PRIMARY KEY, amount numeric(12, 2) NOT NULL,"
                " status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
            cursor.execute(f"GRANT SELECT ON {schema}.demo_orders TO {role}")
            cursor.execute(f"SELECT count(*) FROM {schema}.demo_orders")
            if cursor.fetchone()[0] == 0:
                cursor.executemany(
                    f"INSERT INTO {schema}.demo_orders (amount, status) VALUES (%s, %s)", ORDERS
                )

    def _metric(self, org, name: str, sql: str) -> Metric:
        metric, _ = Metric.objects.update_or_create(
            organization=org,
            name=name,
            defaults={"kind": MetricKind.SQL, "sql": sql, "schedule": "*/5 * * * *", "enabled": True},
        )
        # Due now, so the scheduler pass that follows the seed leaves traces.
        metric.next_run_at = previous_tick(metric.schedule, timezone.now())
        metric.save(update_fields=["next_run_at"])
        return metric

    def _workflow(self, org, name: str, steps: list[tuple[str, str, dict]]) -> Workflow:
        workflow, _ = Workflow.objects.update_or_create(
            organization=org, name=name, defaults={"enabled": True}
        )
        workflow.steps.all().delete()
        Step.objects.bulk_create(
            Step(workflow=workflow, position=position, kind=kind, name=step_name, config=config)
            for position, (kind, step_name, config) in enumerate(steps, 1)
        )
        return workflow

    def _alert(self, org, name, metric, operator, threshold, severity, workflow) -> None:
        rule, _ = AlertRule.objects.update_or_create(
            organization=org,
            name=name,
            defaults={
                "metric": metric,
                "operator": operator,
                "threshold": threshold,
                "severity": severity,
                "enabled": True,
            },
        )
        rule.workflows.set([workflow])
