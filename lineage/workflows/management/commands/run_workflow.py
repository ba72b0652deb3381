from __future__ import annotations

from django.core.management.base import CommandError

from lineage.observability.models import TraceSource
from lineage.observability.output import TerminalCommand, print_chain, terminal_scope
from lineage.tenancy.lookup import NotFound, get_by_name, resolve_organization
from lineage.workflows.engine import run_workflow
from lineage.workflows.models import Workflow


class Command(TerminalCommand):
    help = "Run one workflow now (source: manual); print its trace and its steps' traces."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The workflow's name.")
        parser.add_argument("--org", help="Organization slug (needed when there are several).")
        parser.add_argument("--json", action="store_true", help="Print the traces as JSON.")

    def handle(self, *args, name: str, org: str | None, json: bool, **options) -> None:
        try:
            organization = resolve_organization(org)
            workflow = get_by_name(
                Workflow.objects.filter(organization=organization), name, "workflow"
            )
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        with terminal_scope(organization):
            run = run_workflow(workflow, source=TraceSource.MANUAL)
        print_chain(self.stdout, run.trace_id, as_json=json)
