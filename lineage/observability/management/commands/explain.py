from __future__ import annotations

from django.core.management.base import CommandError

from lineage.observability.explain import generate_explanation
from lineage.observability.ids import TraceNotFound
from lineage.observability.models import ExecutionTrace
from lineage.observability.output import TerminalCommand


class Command(TerminalCommand):
    help = "Explain in plain English why a trace ran (and why it failed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "trace_id", help="The trace's id, or its first or last digits (at least 6)."
        )

    def handle(self, *args, trace_id: str, **options) -> None:
        try:
            explanation = generate_explanation(ExecutionTrace.objects.find_by_id(trace_id).id)
        except TraceNotFound as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(explanation.text)
