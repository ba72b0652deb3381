from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lineage.export.backfill import Backfill, BackfillStopped, Destinations, finished_traces
from lineage.export.openlineage import openlineage_client
from lineage.export.otel import otlp_exporter
from lineage.observability.ids import TraceNotFound
from lineage.observability.management.commands.traces import parse_since
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.lookup import NotFound, resolve_organization
from lineage.tenancy.models import Organization

DESTINATIONS = ("otlp", "openlineage")


class Command(BaseCommand):
    help = (
        "Send finished traces to the OpenTelemetry collector (LINEAGE_OTLP_ENDPOINT) and "
        "OpenLineage (LINEAGE_OPENLINEAGE_URL or _FILE), oldest first: to back-fill what "
        "they missed. Sending a trace twice sends the same span and run. Safe from cron."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", default="24h", help="Traces started within, e.g. 24h or 7d.")
        parser.add_argument("--org", help="Only this organization's traces (slug).")
        parser.add_argument("--after", help="Go on after this trace id (a stopped run prints it).")
        parser.add_argument("--to", choices=DESTINATIONS, help="Only this destination.")

    def handle(self, *args, **options) -> None:
        since = timezone.now() - parse_since(options["since"])
        destinations = _destinations(options["to"])
        organizations = _organizations(options["org"])
        after = _after(options["after"])
        backfill = Backfill(destinations)
        batches = finished_traces(organizations, since, after)
        try:
            sent = backfill.run(batches, self._progress)
        except BackfillStopped as stopped:
            reason = " ".join(str(stopped).split())  # one line, whatever the library said
            again = (
                f"run again with --after {stopped.after.id} to go on"
                if stopped.after
                else "run it again once the destination is back"
            )
            raise CommandError(f"Stopped after {stopped.sent:,} traces: {reason}; {again}.") from None
        where = " and ".join(
            name for name, on in (("OpenTelemetry", destinations.span_exporter),
                                  ("OpenLineage", destinations.openlineage)) if on
        )
        self.stdout.write(f"Sent {sent:,} finished traces to {where}.")

    def _progress(self, sent: int, last: ExecutionTrace) -> None:
        self.stderr.write(f"{sent:,} traces sent (the last {last.id})")


def _destinations(only: str | None) -> Destinations:
    destinations = Destinations()
    if only in (None, "otlp") and settings.LINEAGE_OTLP_ENDPOINT:
        destinations.span_exporter = otlp_exporter(
            settings.LINEAGE_OTLP_ENDPOINT,
            settings.LINEAGE_OTLP_HEADERS,
            settings.LINEAGE_OTLP_TIMEOUT_SECONDS,
        )
    openlineage = settings.LINEAGE_OPENLINEAGE_URL or settings.LINEAGE_OPENLINEAGE_FILE
    if only in (None, "openlineage") and openlineage:
        destinations.openlineage = openlineage_client(
            settings.LINEAGE_OPENLINEAGE_URL, settings.LINEAGE_OPENLINEAGE_FILE
        )
    if destinations.span_exporter is None and destinations.openlineage is None:
        wanted = {
            "otlp": "LINEAGE_OTLP_ENDPOINT",
            "openlineage": "LINEAGE_OPENLINEAGE_URL or LINEAGE_OPENLINEAGE_FILE",
        }
        names = wanted[only] if only else f"{wanted['otlp']}, {wanted['openlineage']}"
        raise CommandError(f"Nothing to send to: set {names}.")
    return destinations


def _organizations(slug: str | None) -> list[Organization]:
    """Every organization, or the one named (with near matches when unknown)."""
    if slug is None:
        return list(Organization.objects.order_by("pk"))
    try:
        return [resolve_organization(slug)]
    except NotFound as exc:
        raise CommandError(str(exc)) from None


def _after(value: str | None) -> ExecutionTrace | None:
    if value is None:
        return None
    try:
        return ExecutionTrace.objects.find_by_id(value)
    except TraceNotFound as exc:
        raise CommandError(f"--after: {exc}") from None
