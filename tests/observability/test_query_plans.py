from __future__ import annotations

from django.db import connection, transaction

from lineage.bench.data import load_traces
from lineage.observability.ids import id_suffix
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import get_trace_lineage, lineage_plan_problems
from tests.factories import traced_db

pytestmark = traced_db


def lineage_shaped(org, total=4000):
    """Chains, fan-in, fan-out and ten-level run_metric chains, analyzed."""
    _, probes = load_traces(org, total, progress=open("/dev/null", "w"))  # noqa: SIM115
    return probes


def test_lineage_queries_use_indexes_and_the_gin_index_for_children(org):
    probes = lineage_shaped(org)

    for root in (probes.deep_middle, probes.deep[0], probes.deep[-1], probes.two_hundred_root):
        assert lineage_plan_problems(root) == []


def test_the_plans_checked_are_those_of_real_lineages(org):
    probes = lineage_shaped(org)

    lineage = get_trace_lineage(probes.deep_middle, "both", 20)

    # The middle of a 40-trace chain, twenty levels each way, plus the
    # log steps of the workflows on the way down.
    assert min(lineage.depths.values()) == -20
    assert max(lineage.depths.values()) == 19
    assert len(lineage.nodes) > 40


def test_a_missing_gin_index_is_reported_as_a_sequential_scan(org):
    probes = lineage_shaped(org)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX trace_dependencies")
        problems = lineage_plan_problems(probes.deep_middle)
        transaction.set_rollback(True)

    assert "descendants: sequential scan of execution_traces" in problems
    assert "descendants: children not found with the GIN index trace_dependencies" in problems
    assert lineage_plan_problems(probes.deep_middle) == []


def test_a_short_id_is_found_through_the_reversed_id_index(org):
    probes = lineage_shaped(org)
    oldest = probes.deep[0]
    short_id = str(oldest)[-8:]

    plan = ExecutionTrace.objects.filter(id_suffix(short_id), org=org).explain()

    assert "trace_id_reversed" in plan and "Seq Scan" not in plan, plan
    assert ExecutionTrace.objects.for_org(org).find_by_id(short_id).id == oldest


def test_a_page_of_runs_reads_the_partial_runs_index(org):
    lineage_shaped(org)

    plan = ExecutionTrace.objects.for_org(org).runs().newest_first()[:26].explain()

    assert "trace_runs" in plan and "Seq Scan" not in plan, plan


def test_the_traces_of_a_page_of_runs_are_found_through_the_gin_index(org):
    from lineage.observability.models import _RUN_TRACES_SQL

    lineage_shaped(org)
    roots = list(ExecutionTrace.objects.for_org(org).runs().newest_first().values_list("id", flat=True)[:25])
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN " + _RUN_TRACES_SQL, {"roots": roots, "org": org.pk, "depth": 10, "cap": 1000}
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "trace_dependencies" in plan, plan
    assert "Seq Scan on execution_traces" not in plan, plan
