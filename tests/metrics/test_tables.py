"""The tables a metric's SQL reads, found with PostgreSQL's parser, kept
with each run and shown where a chain of causes ends: the metric's page
and the lineage graph."""
from __future__ import annotations

from django.urls import reverse

from lineage.execution.runs import run_metric_execution
from lineage.metrics.models import Metric
from lineage.metrics.tables import tables_read
from lineage.observability.graph import lineage_to_dot
from lineage.observability.models import ExecutionTrace
from lineage.observability.store import get_trace_lineage
from tests.factories import traced_db


def test_the_tables_a_query_names_not_its_ctes_or_functions():
    cases = {
        "SELECT sum(amount) FROM demo_orders WHERE status = 'paid'": ["public.demo_orders"],
        "WITH paid AS (SELECT * FROM sales.orders o JOIN refunds r ON r.id = o.id)"
        " SELECT count(*) FROM paid WHERE id IN (SELECT id FROM audit.flags)":
            ["audit.flags", "public.refunds", "sales.orders"],
        "SELECT count(*) FROM generate_series(1, 3)": [],
        'SELECT 1 FROM "Odd.Name", warehouse.sales.orders': ['public."Odd.Name"', "sales.orders"],
        "SELECT 42": [],
        "SELEC broken": [],
    }
    assert {sql: tables_read(sql) for sql in cases} == cases


@traced_db
def test_a_run_keeps_the_tables_it_read_and_the_page_and_graph_show_them(seeded, client, demo_user):
    revenue = Metric.objects.get(name="Daily revenue")
    run_metric_execution(revenue, source="manual")
    client.force_login(demo_user)

    metric_run = ExecutionTrace.objects.get(trace_type="metric")
    workflow_run = ExecutionTrace.objects.get(trace_type="workflow")
    page = client.get(reverse("web:metric-detail", args=[revenue.pk])).text
    dot = lineage_to_dot(get_trace_lineage(workflow_run.id, "up", 5))

    orders = f"lineage_org_{seeded.pk}.demo_orders"  # acme's metric schema
    assert metric_run.inputs["reads"] == [orders]
    assert f"<dt>Reads</dt><dd><code>{orders}</code></dd>" in page
    (table_node,) = [line for line in dot.splitlines() if "cylinder" in line]
    assert f'label="table\\n{orders}"' in table_node
    table = table_node.split()[0]
    assert f"{table} -> t{metric_run.id.hex}" in dot
