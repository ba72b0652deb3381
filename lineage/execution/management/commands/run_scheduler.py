from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from lineage.execution.scheduler import run_due
from lineage.observability.output import TerminalCommand
from lineage.tenancy.lookup import NotFound, resolve_organization


def parse_moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--now must be an ISO-8601 time such as 2026-11-28T10:05, not “{value}”"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(TerminalCommand):
    help = (
        "Run every metric whose cron schedule is due, with its alerts and workflows. "
        "One pass, then exit: meant for cron, every minute. Safe to run on several hosts."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--now", help="Pretend it is this time (ISO-8601); default: now.")
        parser.add_argument("--org", help="Only this organization's metrics (slug); default: all.")

    def handle(self, *args, now: str | None = None, org: str | None = None, **options) -> None:
        moment = parse_moment(now) if now else timezone.now()
        organization = None
        if org:
            try:
                organization = resolve_organization(org)
            except NotFound as exc:
                raise CommandError(str(exc)) from None
        runs = run_due(moment, organization=organization)
        for run in runs:
            outcome = f"= {run.value:g}" if run.succeeded else f"FAILED: {run.error}"
            fired = [a.rule.name for a in run.alerts if a.fired]
            line = f"{run.metric.organization.slug}/{run.metric.name} {outcome} (trace {run.trace_id})"
            if fired:
                line += f"; fired: {', '.join(fired)}"
            self.stdout.write(line)
        self.stdout.write(f"{len(runs)} metric(s) ran.")
