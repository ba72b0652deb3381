"""The assistant at size: 2,000 definitions to find names among, and a week
and a day of five-minute history for one chain (Orders backlog → Backlog
high → Page ops) inside the million traces, so a why-not reads a week of
quiet evaluations and a count aggregates a week of runs with failures.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from lineage.alerts.models import AlertRule
from lineage.assistant.answers import answer_question
from lineage.assistant.planner import AskContext, plan
from lineage.bench.data import CausalFamily, copy_rows
from lineage.bench.timing import Figure, timed, timing_figure
from lineage.metrics.models import Metric
from lineage.observability.models import TraceSource, TraceType
from lineage.tenancy.models import Organization
from lineage.workflows.models import Step, Workflow

DEFINITIONS = 2_000
HISTORY = timedelta(days=8)
TICK = timedelta(minutes=5)
_WORDS = (
    "revenue orders open daily weekly refunds spike drop queue backlog notify page ops "
    "on-call export nightly sync ingest report latency errors signups churn billing invoice "
    "payments fraud review stock inventory warehouse shipping returns carts sessions "
    "checkout search traffic uptime disk memory"
).split()
WHY_NOT = "why didn't page ops run in the last 7 days?"
COUNT = "how many times did orders backlog fail in the last 7 days?"
TYPO = "why didn't paeg ops run yesterday?"


def create_definitions(org: Organization, rng: random.Random) -> None:
    """2,000 metrics, alerts and workflows with names made of common words
    (no numbers, which would make names cheap to rule out), plus the chain
    whose history is loaded."""
    names = _names(rng, DEFINITIONS)
    metrics = Metric.objects.bulk_create(
        Metric(organization=org, name=name, sql="SELECT 1", schedule="") for name in names[:800]
    )
    AlertRule.objects.bulk_create(
        AlertRule(organization=org, name=name, metric=rng.choice(metrics), threshold=10)
        for name in names[800:1500]
    )
    Workflow.objects.bulk_create(Workflow(organization=org, name=name) for name in names[1500:])
    # No schedule: the scheduler figures run every due metric of this organization.
    backlog = Metric.objects.create(organization=org, name="Orders backlog", sql="SELECT 3", schedule="")
    Metric.objects.filter(pk=backlog.pk).update(created_at=timezone.now() - HISTORY * 2)
    page_ops = Workflow.objects.create(organization=org, name="Page ops")
    Step.objects.bulk_create([
        Step(workflow=page_ops, position=1, kind="webhook", name="Page the ops channel", config={"url": "https://example.com"}),
        Step(workflow=page_ops, position=2, kind="log", name="Log the page", config={"message": "paged"}),
    ])  # fmt: skip
    high = AlertRule.objects.create(organization=org, name="Backlog high", metric=backlog, threshold=5)
    high.workflows.set([page_ops])
    # As autovacuum would: without statistics the planner takes 2,000 rows
    # for 40 and joins them row by row.
    with connection.cursor() as cursor:
        for model in (Metric, AlertRule, AlertRule.workflows.through, Workflow, Step):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def _names(rng: random.Random, count: int) -> list[str]:
    taken = {"orders backlog", "page ops", "backlog high"}
    names: list[str] = []
    while len(names) < count:
        name = " ".join(rng.sample(_WORDS, rng.choice((2, 2, 3)))).capitalize()
        if name.lower() not in taken:
            taken.add(name.lower())
            names.append(name)
    return names


def load_history(org: Organization, rng: random.Random, now: datetime) -> int:
    """Every five minutes for eight days: the metric (failing one run in
    ten), its alert — quiet for the last seven days, firing before, when it
    started Page ops (failing at step 1 one run in five)."""
    backlog = Metric.objects.get(organization=org, name="Orders backlog")
    high = AlertRule.objects.get(organization=org, name="Backlog high")
    page_ops = Workflow.objects.get(organization=org, name="Page ops")
    rows: list[tuple] = []
    tick = now - HISTORY
    while tick < now - TICK:
        family = CausalFamily(rng, tick, running=False)
        _one_tick(family, tick, now, backlog, high, page_ops)
        rows += family.rows
        tick += TICK
    copy_rows(org, rows)
    return len(rows)


def _one_tick(family: CausalFamily, tick: datetime, now: datetime, metric, rule, workflow) -> None:
    rng = family.rng
    inputs = {**metric.snapshot(), "scheduled_for": tick.isoformat()}
    if rng.random() < 0.10:
        error = 'MetricError: the query failed: relation "orders" does not exist'
        family.add(TraceType.METRIC, metric.name, metric.subject, inputs, {}, [], failed=error)
        return
    quiet = tick > now - timedelta(days=7, hours=1)  # nothing fired in "the last 7 days"
    value = 3.0 if quiet else 9.0
    metric_id = family.add(TraceType.METRIC, metric.name, metric.subject, inputs, {"value": value}, [])
    margin = value - rule.threshold
    alert_id = family.add(
        TraceType.ALERT, rule.name, rule.subject,
        {"metric": metric.name, "value": value, **rule.snapshot()},
        {"fired": not quiet, "margin": margin, "workflows": [] if quiet else [workflow.name]},
        [metric_id],
    )  # fmt: skip
    if not quiet:
        _page(family, workflow, alert_id)


def _page(family: CausalFamily, workflow: Workflow, alert_id) -> None:
    steps = list(workflow.steps.order_by("position"))
    failing = family.rng.random() < 0.2
    outputs = {"steps_run": 1 if failing else 2}
    error = ""
    if failing:
        outputs["failed_step"] = {"position": 1, "name": steps[0].name, "kind": steps[0].kind}
        error = "StepFailed: step 1 “Page the ops channel” (webhook) failed: POST https://example.com failed: timed out"
    run_id = family.add(
        TraceType.WORKFLOW, workflow.name, workflow.subject,
        {"context": {"alert": "Backlog high"}, **workflow.snapshot(steps)}, outputs, [alert_id],
        failed=error,
    )  # fmt: skip
    for step in steps[: outputs["steps_run"]]:
        failed = "StepError: POST https://example.com failed: timed out" if failing else ""
        family.add(
            TraceType.STEP, step.name, step.subject,
            {"workflow": workflow.name, "position": step.position, "kind": step.kind, "config": {}},
            {}, [run_id], failed=failed, source=TraceSource.DEPENDENCY,
        )  # fmt: skip


def measure_assistant(org: Organization, now: datetime, repetitions: int) -> list[Figure]:
    """Whole answers, planning included, as the Ask page gets them."""
    context = AskContext(organization=org, org_ids=[org.pk], now=now)
    why_not = answer_question(WHY_NOT, context)
    count = answer_question(COUNT, context)
    found = plan(TYPO, context).target
    return [
        timing_figure(
            "assistant: why-not over a week", timed(lambda: answer_question(WHY_NOT, context), repetitions), 50,
            f"“{WHY_NOT}” — {why_not.lines[-1].text[:90]}…",
        ),
        timing_figure(
            "assistant: a count over a week", timed(lambda: answer_question(COUNT, context), repetitions), 50,
            f"“{COUNT}” — {count.lines[0].text[:90]}…",
        ),
        timing_figure(
            f"assistant: a typo among {DEFINITIONS:,} names", timed(lambda: plan(TYPO, context), repetitions), 50,
            f"“{TYPO}” → {found.kind} “{found.name}”" if found else f"“{TYPO}” found nothing",
        ),
    ]
