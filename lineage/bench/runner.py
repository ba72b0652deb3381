"""A whole benchmark run: load both sizes, measure every figure, clean up."""
from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import TextIO

from django.utils import timezone

from lineage.bench.assistant import create_definitions, load_history, measure_assistant
from lineage.bench.data import LARGE_SLUG, SMALL_SLUG, create_org, load_traces, remove_org
from lineage.bench.figures import (
    bench_client,
    lineage_samples,
    measure_big_svg,
    measure_explanation,
    measure_export,
    measure_failures,
    measure_plans,
    measure_runs_list,
    measure_short_ids,
    measure_trace_detail,
    measure_trace_list,
    measure_tracer,
)
from lineage.bench.scheduler import measure_scheduler
from lineage.bench.timing import (
    BenchSizes,
    Figure,
    Result,
    describe_database,
    median,
    ratio_figure,
    timing_figure,
)
from lineage.tenancy.models import Organization


def run(plan: BenchSizes, *, keep: bool = False, progress: TextIO = sys.stderr) -> Result:
    """Load both sizes, measure, and (unless `keep`) remove what was created."""
    say = _say(progress)
    created: list[Organization] = []
    users = []
    figures: list[Figure] = []
    sizes: dict[str, int] = {}
    try:
        say(f"Loading the small size ({plan.small:,} traces)…")
        small = create_org(SMALL_SLUG)
        created.append(small)
        sizes["small"], small_probes = load_traces(small, plan.small, seed=plan.seed + 1, progress=progress)
        say("Measuring lineage at the small size…")
        small_lineage = lineage_samples(small_probes.deep_middle, plan.repetitions)

        say(f"Loading the large size ({plan.large:,} traces)…")
        large = create_org(LARGE_SLUG)
        created.append(large)
        rng = random.Random(plan.seed)
        create_definitions(large, rng)
        loaded_at = timezone.now()
        history = load_history(large, rng, loaded_at)  # analyzed with the rest, just below
        sizes["large"], probes = load_traces(large, plan.large, seed=plan.seed, progress=progress)
        sizes["large"] += history

        say("Measuring the tracer…")
        figures.append(measure_tracer(large, plan.tracer_repetitions))
        figures.append(measure_export(large, plan.tracer_repetitions))
        say("Measuring lineage and explanations…")
        large_lineage = lineage_samples(probes.deep_middle, plan.repetitions)
        figures.append(timing_figure(
            f"lineage up+down, depth 20, {plan.large:,} traces", large_lineage, 5,
            "middle of a 10-level run_metric chain"))
        ratio = median(large_lineage) / median(small_lineage)
        figures.append(ratio_figure(
            f"lineage {plan.large:,} ÷ {plan.small:,} traces", ratio, "≤ 1.5",
            ratio <= 1.5, f"small: median {median(small_lineage):.3f} ms"))
        figures.append(measure_explanation(probes.five_level, plan.repetitions))
        figures.append(measure_plans(probes.deep_middle))
        figures.append(measure_short_ids(large, plan.repetitions))
        say("Measuring the assistant…")
        figures += measure_assistant(large, loaded_at, plan.repetitions)

        say("Measuring pages…")
        client, user = bench_client(large)
        users.append(user)
        figures += measure_trace_list(client, large, plan.page_repetitions, plan.large)
        figures += measure_runs_list(client, large, plan.page_repetitions, plan.large)
        figures.append(measure_failures(client, plan.page_repetitions))
        figures += measure_trace_detail(client, probes.fifty_root, max(10, plan.page_repetitions // 2))
        figures += measure_big_svg(probes.two_hundred_root, plan.svg_repetitions)
        client.logout()

        say(f"Measuring the scheduler ({plan.scheduler_metrics:,} metrics)…")
        figures += measure_scheduler(large, plan.scheduler_metrics, plan.scheduler_rounds)
    finally:
        for user in users:
            user.delete()
        if not keep:
            say("Removing the benchmark organizations…")
            for org in created:
                remove_org(org.pk)
    return Result(figures, sizes, describe_database())


def _say(progress: TextIO) -> Callable[[str], None]:
    def say(message: str) -> None:
        progress.write(message + "\n")
        progress.flush()

    return say
