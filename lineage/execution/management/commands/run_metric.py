from __future__ import annotations

import json as _json

from django.core.management.base import CommandError

from lineage.execution.preview import NOTHING_RECORDED, preview_metric
from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.observability.models import TraceSource
from lineage.observability.output import TerminalCommand, print_chain, terminal_scope
from lineage.tenancy.lookup import NotFound, get_by_name, resolve_organization


class Command(TerminalCommand):
    help = (
        "Run one metric now (source: manual) with its alerts and workflows; print every trace. "
        "With --dry-run, compute it and say which alerts would fire and which workflows they "
        "would start, recording nothing and starting nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The metric's name.")
        parser.add_argument("--org", help="Organization slug (needed when there are several).")
        parser.add_argument("--json", action="store_true", help="Print the traces (or the dry run) as JSON.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Compute the value and judge the alerts without writing a trace or a value "
            "and without starting any workflow.",
        )

    def handle(self, *args, name: str, org: str | None, json: bool, dry_run: bool, **options) -> None:
        try:
            organization = resolve_organization(org)
            metric = get_by_name(Metric.objects.filter(organization=organization), name, "metric")
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        if dry_run:
            preview = preview_metric(metric)
            if json:
                self.stdout.write(_json.dumps(preview.as_dict(), indent=2))
            else:
                self.stdout.write("\n".join([*preview.sentences, NOTHING_RECORDED]))
            return
        with terminal_scope(organization):
            run = run_metric_execution(metric, source=TraceSource.MANUAL)
        print_chain(self.stdout, run.trace_id, as_json=json)
