"""The API driven through its own OpenAPI schema (schemathesis), against the
live server: every operation with generated inputs, fitting the schema and
not, answers without a 500 and as its schema says (status code, content
type, body)."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from lineage.api.endpoints import api
from tests.factories import traced_db

# Enough to reach each parameter's edges; the whole module takes well under a minute.
EXAMPLES = 15
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, methods in api.get_openapi_schema(path_prefix="/api/v1")["paths"].items()
    for method in methods
]


def test_the_schema_lists_every_operation():
    assert OPERATIONS == [
        "GET /api/v1/traces",
        "GET /api/v1/traces/{trace_id}",
        "GET /api/v1/traces/{trace_id}/lineage",
        "GET /api/v1/traces/{trace_id}/explanation",
        "GET /api/v1/definitions/{kind}/{definition_id}/runs",
        "GET /api/v1/failures",
        "POST /api/v1/ask",
    ]


@traced_db
def test_every_operation_answers_as_its_schema_says(live_server, traces, token):
    # One test for all operations: the live server and its data are set up once.
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    failures = []
    for label in OPERATIONS:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _drive(schema, label, mode, live_server.url, traces, token)
            except Exception as failure:  # noqa: BLE001 (each is reported with its operation)
                failures.append(f"{label}, inputs {mode}: {failure}")
    assert not failures, "\n\n".join(failures)


def _drive(schema, label: str, mode: GenerationMode, base_url: str, traces, token: str) -> None:
    method, path = label.split(" ")
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(mode, path_parameters=_existing(path, mode, traces)))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers)

    call()


def _existing(path: str, mode: GenerationMode, traces) -> dict | None:
    """Inputs that fit the schema name a trace or a definition that exists
    (a random id would only ever find a 404); the others stay generated."""
    if not mode.is_positive:
        return None
    workflow = traces["workflow:Notify on-call"]
    if "{trace_id}" in path:
        return {"trace_id": str(workflow.id)}
    if "{definition_id}" in path:
        return {"kind": "workflow", "definition_id": int(workflow.subject.split(":")[1])}
    return None
