"""The JSON API, version 1: read-only views of traces (the trace browser's
filters and paging, a trace, its lineage, its explanation, the runs of a
definition, failures) and questions to the assistant, which never start a run.

Errors are JSON with a message, whatever went wrong: a bad id, an unknown
filter, a bad cursor, a limit over the cap, a missing token.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Annotated, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Path, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError

from lineage.api import schemas
from lineage.api.auth import BrowserSession, Caller, TokenAuth, caller
from lineage.assistant.answers import Answer, answer_question
from lineage.assistant.intents import Intent
from lineage.assistant.planner import AskContext, QuestionError
from lineage.observability.explain import generate_explanation, why_each_ran
from lineage.observability.jsonsafe import clean_text
from lineage.observability.models import TraceSource, TraceStatus, TraceType
from lineage.observability.store import (
    DEFAULT_LINEAGE_DEPTH,
    MAX_LINEAGE_DEPTH,
    get_trace_lineage,
)
from lineage.observability.subjects import Subject, definition_kinds
from lineage.web.trace_filters import (
    MAX_SEARCH_LENGTH,
    Cursor,
    TraceFilters,
    filter_traces,
    keyset_page,
)

logger = logging.getLogger("lineage.api")

MAX_LIMIT = 100
MAX_ID = 2**63 - 1  # definitions' ids are bigints
DEFAULT_LIMIT = 25
ERRORS = {400: schemas.Error, 401: schemas.Error, 404: schemas.Error, 422: schemas.Error}

TypeName = Literal[tuple(TraceType.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(TraceStatus.values)]  # type: ignore[valid-type]
SourceName = Literal[tuple(TraceSource.values)]  # type: ignore[valid-type]
Window = Literal["1h", "24h", "7d"]
Direction = Literal["up", "down", "both"]
DefinitionKind = Literal["metric", "alert", "workflow"]
# A page's position as the API writes it (opaque to clients: pass back `next_cursor`).
CursorParam = Annotated[str | None, Query(pattern=r"^-?[0-9]{1,16}_[0-9a-f]{32}$")]

# The docs page runs Swagger UI from static files (django-ninja ships them:
# no CDN) under the policy the dashboard's pages have.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def _with_docs_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def with_policy(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.setdefault("Content-Security-Policy", DOCS_POLICY)
        return response

    return with_policy


api = NinjaAPI(
    title="Lineage API",
    version="1",
    description=(
        "Lineage's traces as JSON: why each run happened and why it failed. Authenticate "
        "with an organization's API token (`Authorization: Bearer lin_…`, created by an "
        "owner under API tokens) or a signed-in browser session."
    ),
    auth=[TokenAuth(), BrowserSession()],
    urls_namespace="api-v1",
    docs_decorator=_with_docs_policy,
)


# --- Errors: always JSON with a message ----------------------------------------


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"message": message}, status=status)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return _error(request, "; ".join(problems) or "The request is not valid.", 422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = "Give an API token (Authorization: Bearer lin_…) or sign in."
    return _error(request, message, 401)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, "Not found.", 404)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s", request.path)
    return _error(request, "Something went wrong on our side; it was logged.", 500)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /api/: a JSON 404, never the HTML page."""
    return _error(request, f"There is no API at {request.path}.", 404)


# --- Traces ----------------------------------------------------------------------


@api.get("/traces", response={200: schemas.TracePage, **ERRORS}, summary="List traces")
def list_traces(
    request: HttpRequest,
    type: TypeName | None = None,  # noqa: A002 (the browser's parameter name)
    status: StatusName | None = None,
    source: SourceName | None = None,
    window: Window | None = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    q: Annotated[str, Query(max_length=MAX_SEARCH_LENGTH)] = "",
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
):
    """Traces of the organization (the token's, or the one the browser is
    viewing), newest first, with the trace browser's filters: `from` and `to`
    bound when they started (a range that ends before it starts holds
    nothing). `next_cursor` pages on: pass it as `cursor`."""
    filters = TraceFilters(
        trace_type=type or "",
        status=status or "",
        source=source or "",
        window=window or "",
        start=_utc(start),
        end=_utc(end),
        q=clean_text(q.strip()),
        cursor=_cursor(cursor),
    )
    traces = filter_traces(caller(request).listed_traces(), filters, timezone.now())
    rows, next_cursor = keyset_page(traces, filters.cursor, limit)
    return schemas.TracePage(
        items=[schemas.Trace.of(trace, request) for trace in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@api.get("/traces/{trace_id}", response={200: schemas.TraceDetail, **ERRORS}, summary="A trace")
def get_trace(request: HttpRequest, trace_id: str):
    """One trace with its inputs, outputs and error."""
    return schemas.TraceDetail.of(caller(request).trace(trace_id), request)


@api.get(
    "/traces/{trace_id}/lineage",
    response={200: schemas.TraceLineage, **ERRORS},
    summary="A trace's lineage",
)
def get_lineage(
    request: HttpRequest,
    trace_id: str,
    direction: Direction = "both",
    depth: Annotated[int, Query(ge=1, le=MAX_LINEAGE_DEPTH)] = DEFAULT_LINEAGE_DEPTH,
):
    """The trace with its causes (`up`), effects (`down`) or both, `depth` levels each way."""
    trace = caller(request).trace(trace_id)
    return schemas.TraceLineage.of(get_trace_lineage(trace.id, direction, depth), request)


@api.get(
    "/traces/{trace_id}/explanation",
    response={200: schemas.TraceExplanation, **ERRORS},
    summary="Why a trace ran",
)
def get_explanation(request: HttpRequest, trace_id: str):
    """Why the trace ran (and why it failed): the text, and one step per
    trace of the chain from the root cause to this one."""
    trace = caller(request).trace(trace_id)
    return schemas.TraceExplanation.of(generate_explanation(trace.id))


@api.get(
    "/definitions/{kind}/{definition_id}/runs",
    response={200: schemas.DefinitionRuns, **ERRORS},
    summary="Runs of a metric, alert or workflow",
)
def definition_runs(
    request: HttpRequest,
    kind: DefinitionKind,
    definition_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
):
    """The latest runs of one definition, newest first, each with one line on why it ran."""
    definition = _definition(caller(request), kind, definition_id)
    runs = caller(request).traces().filter(org_id=definition.organization_id).runs_of(
        definition.subject
    )
    rows, next_cursor = keyset_page(runs, _cursor(cursor), limit)
    whys = why_each_ran(rows)
    return schemas.DefinitionRuns(
        definition=schemas.Definition(
            kind=kind, id=definition.pk, name=definition.name, subject=definition.subject
        ),
        runs=[
            schemas.Run(**schemas.Trace.of(run, request).model_dump(), why=whys[run.id])
            for run in rows
        ],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@api.get("/failures", response={200: list[schemas.FailureGroup], **ERRORS}, summary="Failures")
def failures(request: HttpRequest):
    """Failed runs of the organization grouped by what failed (a workflow's
    failing step, a metric), with counts and the latest failure."""
    return [
        schemas.FailureGroup(
            trace_type=group.trace_type,
            name=group.name,
            failed_step=group.failed_step_name,
            failures=group.failures,
            latest=schemas.Trace.of(group, request),
        )
        for group in caller(request).listed_traces().failure_groups()
    ]


@api.post("/ask", response={200: schemas.AssistantAnswer, 403: schemas.Error, **ERRORS},
          summary="Ask the assistant")
def ask(request: HttpRequest, body: schemas.Question):
    """A question in plain language, answered from the traces (“why didn't
    Notify on-call run today?”). Asking never starts a run: an answer that
    would run a metric offers it as `proposal`."""
    who = caller(request)
    trace = who.trace(body.trace_id) if body.trace_id else None
    organization = who.organization_of(trace.org_id) if trace else who.organization
    if organization is None:
        raise HttpError(400, "You do not belong to an organization yet.")
    context = AskContext(
        organization=organization,
        org_ids=who.org_ids,
        user=who.user,
        can_run=who.can_run,
        confirmed=False,
        trace_id=trace.id if trace else None,
    )
    try:
        answer = answer_question(body.question, context)
    except QuestionError as error:  # nothing but spaces: answered as the Ask page does
        answer = Answer(Intent.INVALID).say(str(error))
    return schemas.AssistantAnswer.of(answer)


# --- Helpers ---------------------------------------------------------------------


def _cursor(value: str | None) -> Cursor | None:
    """The schema's pattern lets through only cursors that decode."""
    return Cursor.decode(value) if value else None


def _utc(moment: datetime | None) -> datetime | None:
    """A moment in UTC; without an offset it is in the display time zone, as
    the trace browser reads it. PostgreSQL refuses odd offsets (-16:58), so
    none is sent; a moment at the very edge of the calendar is that edge."""
    if moment is None:
        return None
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        edge = datetime.min if moment.year < 2 else datetime.max
        return edge.replace(tzinfo=UTC)


def _definition(who: Caller, kind: str, definition_id: int):
    """One of the caller's metrics, alerts or workflows; 404 otherwise."""
    found = None
    if kind in definition_kinds():
        found = Subject(kind, definition_id).definition()
    if found is None or found.organization_id not in who.org_ids:
        raise HttpError(404, f"No such {kind}.")
    return found
