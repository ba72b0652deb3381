from __future__ import annotations

import json
import re
from datetime import timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from lineage.observability.models import ExecutionTrace, TraceSource, TraceStatus, TraceType
from lineage.observability.output import TerminalCommand, trace_as_dict, trace_table
from lineage.tenancy.lookup import NotFound, resolve_organization

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Far enough back for any history; further would not fit in a date.
_LONGEST = timedelta(days=365 * 100)


def parse_since(value: str, option: str = "--since") -> timedelta:
    """A span written as 30m, 24h, 7d or 2w; CommandError naming `option` otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value)
    if not match:
        raise CommandError(f"{option} must look like 30m, 24h, 7d or 2w, not “{value}”")
    try:
        span = timedelta(**{_UNITS[match[2]]: int(match[1])})
    except OverflowError:
        span = None
    if span is None or span > _LONGEST:
        raise CommandError(f"{option} must be at most 100 years, not “{value}”")
    return span


class Command(TerminalCommand):
    help = "List recent traces, newest first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", help="Organization slug (needed when there are several).")
        parser.add_argument("--type", choices=TraceType.values)
        parser.add_argument("--status", choices=TraceStatus.values)
        parser.add_argument("--source", choices=TraceSource.values)
        parser.add_argument("--since", help="Only traces started within, e.g. 24h or 7d.")
        parser.add_argument("--limit", type=int, default=50)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options) -> None:
        if not 1 <= options["limit"] <= 10_000:
            raise CommandError(f"--limit must be between 1 and 10000, not {options['limit']}")
        try:
            organization = resolve_organization(options["org"])
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        traces = ExecutionTrace.objects.for_org(organization)
        for option in ("type", "status", "source"):
            if options[option]:
                field = "trace_type" if option == "type" else option
                traces = traces.filter(**{field: options[option]})
        if options["since"]:
            traces = traces.started_between(timezone.now() - parse_since(options["since"]))
        traces = list(traces.newest_first()[: options["limit"]])
        if options["json"]:
            self.stdout.write(json.dumps([trace_as_dict(t, detail=True) for t in traces], indent=2))
        else:
            self.stdout.write(trace_table(traces) or "No traces.")
