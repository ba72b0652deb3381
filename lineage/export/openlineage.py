"""Metric, alert and workflow runs as OpenLineage run events, made and sent
with the openlineage-python client (Marquez's HTTP API, or a file).

Each run is an OpenLineage run whose id is its trace's id: START when it
begins, then COMPLETE, FAIL or ABORT. Its job is the definition
(“metric.Daily revenue”) in its organization's namespace (“lineage.acme”);
the parent-run facet names the run that caused it (a step's cause is its
workflow's run) and the root of its chain. A metric's input datasets are
the tables its SQL reads, named as OpenLineage names PostgreSQL tables.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    job_type_job,
    nominal_time_run,
    parent_run,
    set_producer,
    sql_job,
)
from openlineage.client.naming.dataset import Postgres
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)
from openlineage.client.transport.transport import Transport

from lineage.export.chains import ChainLink, job_name
from lineage.observability.listeners import TraceRecord
from lineage.observability.models import TraceStatus, TraceType

PRODUCER = "urn:lineage"
NAMESPACE_PREFIX = "lineage"
# Steps are parts of their workflow's run, not runs of their own.
RUN_TYPES = {TraceType.METRIC, TraceType.ALERT, TraceType.WORKFLOW}
_END_STATES = {
    TraceStatus.SUCCEEDED: RunState.COMPLETE,
    TraceStatus.FAILED: RunState.FAIL,
    TraceStatus.ABANDONED: RunState.ABORT,
}
# Marquez may be down: a few quick tries, then the event waits for a back-fill.
_RETRIES = {"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.2,
            "status_forcelist": [500, 502, 503, 504], "allowed_methods": ["POST"]}

set_producer(PRODUCER)


def job_namespace(org_slug: str) -> str:
    return f"{NAMESPACE_PREFIX}.{org_slug}"


def openlineage_client(url: str = "", path: str = "") -> OpenLineageClient:
    """A client sending to Marquez's HTTP API at `url`, or appending one JSON
    event per line to the file at `path`."""
    transport: Transport
    if url:
        api_key = settings.LINEAGE_OPENLINEAGE_API_KEY
        transport = HttpTransport(HttpConfig(
            url=url,
            timeout=settings.LINEAGE_OPENLINEAGE_TIMEOUT_SECONDS,
            auth=ApiKeyTokenProvider({"apiKey": api_key}) if api_key else TokenProvider({}),
            retry=_RETRIES,
        ))
    else:
        transport = FileTransport(FileConfig(log_file_path=path, append=True))
    return OpenLineageClient(transport=transport)


def is_run(record: TraceRecord) -> bool:
    return record.trace_type in RUN_TYPES


def run_event(
    record: TraceRecord,
    namespace: str,
    parent: ChainLink | None,
    root: ChainLink | None,
) -> RunEvent:
    """The event for this write of a run: START while it runs, else its end."""
    state = _END_STATES.get(record.status, RunState.START)
    moment = record.completed_at if state != RunState.START and record.completed_at else record.started_at
    return RunEvent(
        eventType=state,
        eventTime=_iso(moment),
        run=Run(runId=str(record.id), facets=_run_facets(record, namespace, parent, root, state)),
        job=Job(namespace=namespace, name=job_name(record.trace_type, record.name), facets=_job_facets(record)),
        inputs=_input_datasets(record),
        outputs=[],
    )


def _run_facets(
    record: TraceRecord,
    namespace: str,
    parent: ChainLink | None,
    root: ChainLink | None,
    state: RunState,
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if parent is not None:
        top = root or parent
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=str(parent.run_id)),
            job=parent_run.Job(namespace=namespace, name=parent.job),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=str(top.run_id)),
                job=parent_run.RootJob(namespace=namespace, name=top.job),
            ),
        )
    scheduled_for = record.inputs.get("scheduled_for")
    if isinstance(scheduled_for, datetime):
        facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=_iso(scheduled_for)
        )
    if state in (RunState.FAIL, RunState.ABORT):
        summary, _, stack = record.error.partition("\n\n")
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=summary.strip() or record.status,
            programmingLanguage="python",
            stackTrace=stack.strip() or None,
        )
    return facets


def _job_facets(record: TraceRecord) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="LINEAGE", jobType=record.trace_type.upper()
        )
    }
    sql = record.inputs.get("sql")
    if record.trace_type == TraceType.METRIC and isinstance(sql, str):
        facets["sql"] = sql_job.SQLJobFacet(query=sql, dialect="postgres")
    return facets


def _input_datasets(record: TraceRecord) -> list[InputDataset]:
    reads = record.inputs.get("reads") if record.trace_type == TraceType.METRIC else None
    if not isinstance(reads, list):
        return []
    datasets = []
    for table in reads:
        schema, _, name = str(table).partition(".")
        naming = _metrics_database(schema, name)
        datasets.append(InputDataset(namespace=naming.get_namespace(), name=naming.get_name()))
    return datasets


def _metrics_database(schema: str, table: str) -> Postgres:
    """A table of the database metric SQL runs on, as OpenLineage names it
    (postgres://host:port, database.schema.table); a local socket is localhost."""
    # METRICS_DATABASE_URL's database when set, else the app's (metrics/sandbox.py).
    database = settings.DATABASES.get("metrics") or settings.DATABASES["default"]
    host = str(database.get("HOST") or "")
    return Postgres(
        host="localhost" if not host or host.startswith("/") else host,
        port=str(database.get("PORT") or 5432),
        database=str(database.get("NAME") or "postgres"),
        schema=schema,
        table=table,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat()
