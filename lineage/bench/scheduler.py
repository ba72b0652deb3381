"""The scheduler's throughput: real metric → alert → workflow chains run by
run_due in this process and by run_scheduler processes side by side."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils import timezone

from lineage.alerts.models import AlertRule
from lineage.bench.timing import Figure, median, ratio_figure
from lineage.execution.scheduler import run_due
from lineage.metrics.models import Metric
from lineage.tenancy.models import Organization
from lineage.workflows.models import Step, Workflow

# The benchmark's metrics are due at a moment far ahead, so a scheduler
# running for real on the same database (cron) never takes them; the
# benchmark's schedulers run at that moment for its organization only, so
# they take nothing else.
SCHEDULER_NOW = datetime(2999, 1, 1, tzinfo=UTC)


def create_scheduled_chains(org: Organization, count: int) -> None:
    """`count` due metrics (SELECT 42), each with an alert that fires and a
    two-step log workflow."""
    metrics = Metric.objects.bulk_create(
        Metric(organization=org, name=f"Bench metric {i}", sql="SELECT 42",
               schedule="*/5 * * * *", next_run_at=SCHEDULER_NOW)
        for i in range(count)
    )
    workflows = Workflow.objects.bulk_create(
        Workflow(organization=org, name=f"Bench workflow {i}") for i in range(count)
    )
    Step.objects.bulk_create(
        Step(workflow=workflow, position=position, kind="log", name=f"Log {position}",
             config={"message": "$metric is $value"})
        for workflow in workflows
        for position in (1, 2)
    )
    rules = AlertRule.objects.bulk_create(
        AlertRule(organization=org, name=f"Bench alert {i}", metric=metric, operator=">",
                  threshold=0)
        for i, metric in enumerate(metrics)
    )
    AlertRule.workflows.through.objects.bulk_create(
        AlertRule.workflows.through(alertrule_id=rule.pk, workflow_id=workflow.pk)
        for rule, workflow in zip(rules, workflows, strict=True)
    )


def _make_due(org: Organization) -> None:
    Metric.objects.filter(organization=org).update(next_run_at=SCHEDULER_NOW)


def _run_in_process(org: Organization, count: int) -> float:
    # As in the subprocesses (LOG_LEVEL=WARNING): the log steps would
    # otherwise print two lines per chain into the benchmark's output.
    logger = logging.getLogger("lineage")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        started = time.perf_counter()
        runs = run_due(SCHEDULER_NOW, organization=org)
        elapsed = time.perf_counter() - started
    finally:
        logger.setLevel(level)
    fired = sum(1 for run in runs if run.succeeded and any(a.fired for a in run.alerts))
    if fired != count:
        raise RuntimeError(f"the scheduler ran {fired} fired chains, expected {count}")
    return elapsed


def _run_processes(org: Organization, processes: int) -> float:
    """Seconds from launching `processes` run_scheduler commands together
    until the last one exits."""
    command = [
        sys.executable, str(settings.BASE_DIR / "manage.py"), "run_scheduler",
        "--now", SCHEDULER_NOW.isoformat(), "--org", org.slug,
    ]
    started = time.perf_counter()
    children = [
        subprocess.Popen(command, env=_scheduler_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, cwd=settings.BASE_DIR)
        for _ in range(processes)
    ]
    failures = []
    for child in children:
        _, stderr = child.communicate()
        if child.returncode != 0:
            failures.append(stderr.decode(errors="replace")[-2000:])
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError("run_scheduler failed:\n" + "\n".join(failures))
    return elapsed


def _scheduler_env() -> dict[str, str]:
    """This process's environment, pointed at the database this process uses
    (under pytest that is the test database, not the configured one)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(str(db["HOST"] or "localhost"), safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    url = f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
    return {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}


def _chains_ran(org: Organization, since: datetime) -> tuple[int, float]:
    """Workflows that succeeded since `since`, and the seconds from the first
    trace the schedulers wrote to the last one they finished."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE trace_type = 'workflow' AND status = 'succeeded'),"
            " extract(epoch FROM max(completed_at) - min(started_at))"
            " FROM execution_traces WHERE org_id = %s AND started_at >= %s",
            [org.pk, since],
        )
        ran, window = cursor.fetchone()
    return ran, float(window or 0)


@dataclass
class SchedulerRound:
    """One run of `processes` run_scheduler commands over the due metrics."""
    processes: int
    work_rate: float  # chains/s from the first trace written to the last one finished
    wall_rate: float  # chains/s from launching the processes until the last exits


def _processes_round(org: Organization, count: int, processes: int) -> SchedulerRound:
    _make_due(org)
    since = timezone.now()
    elapsed = _run_processes(org, processes)
    ran, window = _chains_ran(org, since)
    if ran != count:
        raise RuntimeError(f"{processes} scheduler process(es) ran {ran} chains, expected {count}")
    return SchedulerRound(processes, count / max(window, 1e-6), count / elapsed)


def measure_scheduler(org: Organization, count: int, rounds: int) -> list[Figure]:
    """Chains per second of run_due in this process, of one run_scheduler
    process and of two sharing the same due metrics.

    The processes' rates are taken over their work (first trace written to
    last finished), which is what a second process can share; the wall-clock
    rates, which add Python's and Django's start-up (about half a second per
    process), are in the notes.
    """
    create_scheduled_chains(org, count)
    # Alternated rounds, medians compared: one busy moment of a shared
    # machine would otherwise decide a figure.
    in_process: list[float] = []
    by_processes: dict[int, list[SchedulerRound]] = {1: [], 2: []}
    for _ in range(rounds):
        _make_due(org)
        in_process.append(count / _run_in_process(org, count))
        for processes in (1, 2):
            by_processes[processes].append(_processes_round(org, count, processes))
    work = {n: median([r.work_rate for r in rs]) for n, rs in by_processes.items()}
    wall = {n: median([r.wall_rate for r in rs]) for n, rs in by_processes.items()}
    ratio = work[2] / work[1]

    def shown(processes: int) -> str:
        runs = by_processes[processes]
        return (f"rounds: {_listed([r.work_rate for r in runs])}; with start-up: "
                f"{_listed([r.wall_rate for r in runs])} (median {wall[processes]:.0f})")

    return [
        Figure(f"scheduler: {count:,} chains, one process", median(in_process), None,
               "chains/s", "≥ 100 chains/s", median(in_process) >= 100,
               f"run_due in this process; rounds: {_listed(in_process)}"),
        Figure("scheduler: one run_scheduler process", work[1], None, "chains/s", "", True,
               shown(1)),
        Figure("scheduler: two run_scheduler processes", work[2], None, "chains/s", "", True,
               shown(2)),
        ratio_figure("scheduler: two processes ÷ one", ratio, "≥ 1.6", ratio >= 1.6,
                     f"medians of {rounds} alternated round(s); with start-up "
                     f"{wall[2] / wall[1]:.2f}×"),
    ]


def _listed(rates: list[float]) -> str:
    return ", ".join(f"{rate:.0f}" for rate in rates)
