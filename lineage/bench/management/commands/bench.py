from __future__ import annotations

import argparse
import dataclasses
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lineage.bench.runner import run
from lineage.bench.timing import BenchSizes, format_table

FULL = BenchSizes(large=1_000_000, small=10_000)
QUICK = BenchSizes(
    large=20_000,
    small=1_000,
    repetitions=40,
    page_repetitions=20,
    svg_repetitions=3,
    tracer_repetitions=200,
    scheduler_metrics=100,
    scheduler_rounds=1,
)


def positive(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not “{value}”") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {number}")
    return number


class Command(BaseCommand):
    help = (
        "Load lineage-shaped traces in bulk into a benchmark organization, time the tracer, "
        "lineage, explanations, the trace pages, the lineage SVG and the scheduler, check the "
        "lineage query plans, and print figure | median | p95 | target | result. Exits 1 when "
        "a target is missed. With --quick the sizes and repetitions are small and a missed "
        "timing target does not fail the exit code: CI runs --quick on a noisy shared machine "
        "to keep the command working, not to gate on its timings. Runs against whatever "
        "database is configured; the benchmark organizations are removed at the end unless "
        "--keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--traces", type=positive,
                            help="Traces at the large size (default 1,000,000; 20,000 with --quick).")
        parser.add_argument("--small", type=positive,
                            help="Traces at the small size (default 10,000; 1,000 with --quick).")
        parser.add_argument("--quick", action="store_true",
                            help="20,000 and 1,000 traces, fewer repetitions, 100 scheduler "
                                 "metrics; timings are reported but do not fail the run.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument("--keep", action="store_true",
                            help="Leave the benchmark organizations and their data.")
        # For the command's own tests: even smaller runs.
        parser.add_argument("--repetitions", type=positive, help=argparse.SUPPRESS)
        parser.add_argument("--scheduler-metrics", type=positive, help=argparse.SUPPRESS)

    def handle(self, *args, **options) -> None:
        plan = self._sizes(options)
        result = run(plan, keep=options["keep"], progress=self.stderr)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(format_table(result))
        missed = [figure.name for figure in result.figures if not figure.passed]
        if missed and not options["quick"]:
            raise CommandError(f"{len(missed)} target(s) missed: {'; '.join(missed)}", returncode=1)

    def _sizes(self, options: dict) -> BenchSizes:
        plan = QUICK if options["quick"] else FULL
        changes = {}
        if options["traces"]:
            changes["large"] = options["traces"]
        if options["small"]:
            changes["small"] = options["small"]
        if options["repetitions"]:
            reps = options["repetitions"]
            changes |= {"repetitions": reps, "page_repetitions": reps,
                       "svg_repetitions": max(1, reps // 10), "tracer_repetitions": reps * 5}
        if options["scheduler_metrics"]:
            changes["scheduler_metrics"] = options["scheduler_metrics"]
        return dataclasses.replace(plan, **changes)
