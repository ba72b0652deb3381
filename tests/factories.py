"""Small builders for test data: plain functions, no fixture files."""
from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from lineage.alerts.models import AlertRule
from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import create_trace, update_trace
from lineage.tenancy.models import Membership, Organization, Role
from lineage.workflows.models import Step, Workflow

# Trace rows are committed on their own connection, so tests run against a
# committed database (and the rows they create are flushed afterwards).
traced_db = pytest.mark.django_db(transaction=True, databases="__all__")


def make_org(slug: str = "acme", name: str | None = None) -> Organization:
    return Organization.objects.create(slug=slug, name=name or slug.title())


def make_user(username: str, org: Organization | None = None, role: str = Role.EDITOR, **extra):
    user = get_user_model().objects.create_user(username, password="pw", **extra)
    if org is not None:
        Membership.objects.create(user=user, organization=org, role=role)
    return user


def make_metric(org: Organization, name: str = "Daily revenue", sql: str = "SELECT 12840", **extra):
    extra.setdefault("schedule", "*/5 * * * *")
    return Metric.objects.create(organization=org, name=name, sql=sql, **extra)


def make_workflow(org: Organization, name: str = "Notify on-call", steps=None) -> Workflow:
    workflow = Workflow.objects.create(organization=org, name=name)
    for position, (kind, step_name, config) in enumerate(
        steps if steps is not None else [("log", "Log it", {"message": "$metric is $value"})], 1
    ):
        Step.objects.create(
            workflow=workflow, position=position, kind=kind, name=step_name, config=config
        )
    return workflow


def make_alert(
    metric: Metric,
    name: str = "Revenue spike",
    operator: str = ">",
    threshold: float = 10_000,
    workflows=(),
) -> AlertRule:
    rule = AlertRule.objects.create(
        organization=metric.organization,
        name=name,
        metric=metric,
        operator=operator,
        threshold=threshold,
    )
    rule.workflows.set(workflows)
    return rule


def make_chain(org: Organization, value: float = 12840, threshold: float = 10_000, steps=None):
    """Metric → alert → workflow, the seed's verification chain."""
    metric = make_metric(org, sql=f"SELECT {value}")
    workflow = make_workflow(org, steps=steps)
    alert = make_alert(metric, threshold=threshold, workflows=[workflow])
    return metric, alert, workflow


def make_trace(
    org: Organization,
    name: str = "Daily revenue",
    *,
    trace_type: str = "metric",
    status: str = "succeeded",
    source: str = "schedule",
    started_at=None,
    duration=None,
    subject: str = "",
    dependencies=(),
    inputs=None,
    outputs=None,
    error: str = "",
):
    """A trace row written through the real store, finished unless `running`."""
    started_at = started_at or timezone.now()
    trace_id = create_trace(
        org_id=org.pk,
        trace_type=trace_type,
        name=name,
        source=source,
        subject=subject,
        inputs=inputs,
        dependencies=dependencies,
        status=status,
        started_at=started_at,
    )
    changes = {"outputs": outputs or {}, "error": error}
    if status not in {"running", "pending"}:
        changes["completed_at"] = started_at + (duration or timedelta(seconds=1))
    update_trace(trace_id, **changes)
    return ExecutionTrace.objects.get(pk=trace_id)


def run_command(*args) -> str:
    """What a management command prints."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_command_json(*args):
    return json.loads(run_command(*args, "--json"))


def scheduler_pass(org: Organization, at, *, late=timedelta(0)) -> list[ExecutionTrace]:
    """One real `run_scheduler --now AT --org SLUG` pass with every scheduled
    metric of `org` due at `at`, its traces then moved to when that pass ran
    (`at` + `late`, keeping their order): history at chosen times, made by
    the engines."""
    Metric.objects.filter(organization=org).exclude(schedule="").update(next_run_at=at)
    before = set(ExecutionTrace.objects.filter(org=org).values_list("id", flat=True))
    call_command("run_scheduler", "--now", at.isoformat(), "--org", org.slug, stdout=StringIO())
    written = ExecutionTrace.objects.filter(org=org).exclude(id__in=before)
    first = min(written.values_list("started_at", flat=True), default=None)
    if first is not None:
        shift = first - (at + late)
        written.update(started_at=F("started_at") - shift, completed_at=F("completed_at") - shift)
    return list(ExecutionTrace.objects.filter(org=org).exclude(id__in=before).order_by("started_at"))
