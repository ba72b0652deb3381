from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from lineage.bench.data import LARGE_SLUG, SMALL_SLUG
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Organization
from tests.factories import traced_db

pytestmark = traced_db

# Small enough for a test; --quick keeps timings from failing the command.
TINY = ["--quick", "--traces", "3000", "--small", "500", "--repetitions", "3",
        "--scheduler-metrics", "12"]

FIGURES = [
    "tracer: with_trace ÷ raw INSERT+UPDATE",
    "tracer: with_trace, export on ÷ off",
    "lineage up+down, depth 20, 3,000 traces",
    "lineage 3,000 ÷ 500 traces",
    "explanation of a five-level chain",
    "lineage query plans",
    "short id lookup: a 90-day-old trace + a miss",
    "assistant: why-not over a week",
    "assistant: a count over a week",
    "assistant: a typo among 2,000 names",
    "trace list: first page",
    "trace list: status+type+24h",
    "trace list: page 119",
    "trace list: page 119 ÷ first",
    "runs list: first page",
    "runs list: page RUNS_PAGE",
    "runs list: poll for new runs",
    "runs list: page RUNS_PAGE ÷ first",
    "failures page, last 24 h",
    "trace detail + 50-node lineage SVG",
    "trace detail + SVG, repeat view",
    "lineage SVG of 200 nodes",
    "node cap (150): 200 nodes collapse",
    "scheduler: 12 chains, one process",
    "scheduler: one run_scheduler process",
    "scheduler: two run_scheduler processes",
    "scheduler: two processes ÷ one",
]


def figures_named(names: list[str]) -> list[str]:
    """FIGURES, with the deep page of runs that this run's random data gave."""
    deep = next((re.search(r"page ([\d,]+)$", n) for n in names if n.startswith("runs list: page")), None)
    return [f.replace("RUNS_PAGE", deep.group(1) if deep else "?") for f in FIGURES]


def bench(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("bench", *TINY, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def table(out: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split(" | ")] for line in out.splitlines() if " | " in line]


def benchmark_orgs() -> list[str]:
    return sorted(Organization.objects.filter(slug__in=[LARGE_SLUG, SMALL_SLUG]).values_list("slug", flat=True))


def test_table_lists_every_figure_with_numbers_and_the_data_is_removed(org):
    out, err = bench()

    rows = {cells[0]: cells[1:] for cells in table(out)}
    assert list(rows)[0] == "figure" and list(rows)[1:] == figures_named(list(rows)[1:])
    for name, (median, _p95, _target, verdict) in list(rows.items())[1:]:
        assert verdict in {"pass", "FAIL", "info"}, name
        if name not in {"lineage query plans", "node cap (150): 200 nodes collapse"}:
            assert re.fullmatch(r"[\d,.]+ ?(ms|×|chains/s)", median), (name, median)
    assert re.fullmatch(r"[\d.]+ ms", rows["trace list: page 119"][1])  # a p95
    assert rows["lineage query plans"][3] == "pass"
    assert rows["node cap (150): 200 nodes collapse"][3] == "pass"
    assert "bench: 3,0" in err and "traces loaded and analyzed" in err  # progress
    assert benchmark_orgs() == []
    assert set(ExecutionTrace.objects.values_list("org_id", flat=True)) == set()
    assert not get_user_model().objects.filter(username__startswith="bench-").exists()
    assert Organization.objects.filter(pk=org.pk).exists()  # other organizations are left alone


def test_json_has_a_number_and_a_verdict_for_every_figure():
    out, _ = bench("--json")

    result = json.loads(out)
    names = [figure["figure"] for figure in result["figures"]]
    assert names == figures_named(names)
    assert result["sizes"]["large"] >= 3000 and result["sizes"]["small"] >= 500
    for figure in result["figures"]:
        assert isinstance(figure["pass"], bool)
        if figure["figure"] not in {"lineage query plans", "node cap (150): 200 nodes collapse"}:
            assert figure["median"] > 0
    timings = [f for f in result["figures"] if f["unit"] == "ms"]
    assert timings and all(f["p95"] >= f["median"] for f in timings)
    assert result["passed"] == all(figure["pass"] for figure in result["figures"])


def test_keep_leaves_the_benchmark_organizations_and_their_traces():
    bench("--keep")

    assert benchmark_orgs() == [LARGE_SLUG, SMALL_SLUG]
    large = Organization.objects.get(slug=LARGE_SLUG)
    # The loaded traces, plus those the tracer and the scheduler wrote.
    assert ExecutionTrace.objects.filter(org=large).count() > 3000
    assert large.metrics.filter(name__startswith="Bench metric").count() == 12

    bench()  # a later run starts from fresh organizations and removes them
    assert benchmark_orgs() == []


def test_a_missed_target_fails_the_command_unless_quick(settings):
    # Nothing collapses when the cap is above the lineage's 200 nodes.
    settings.LINEAGE_GRAPH_NODE_CAP = 1000
    full = [arg for arg in TINY if arg != "--quick"]

    with pytest.raises(CommandError, match=r"target\(s\) missed: .*node cap \(1000\)"):
        call_command("bench", *full, stdout=StringIO(), stderr=StringIO())

    out, _ = bench()  # --quick reports it and succeeds
    assert "node cap (1000)" in out and "FAIL" in out
    assert benchmark_orgs() == []


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_bad_sizes_are_refused_with_a_message(value):
    with pytest.raises(CommandError, match="--traces"):
        call_command("bench", "--traces", value, stdout=StringIO(), stderr=StringIO())
    assert benchmark_orgs() == []
