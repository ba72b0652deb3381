"""What a signed-in user may see: only their organizations' data.

Everything else is a 404 (not a 403), so ids of other organizations'
traces and definitions are not even confirmed to exist.
"""
from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from lineage.observability.ids import TraceNotFound, parse_trace_id
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Membership


def member_org_ids(request: HttpRequest) -> list[int]:
    return [membership.organization_id for membership in getattr(request, "memberships", [])]


def visible_traces(request: HttpRequest) -> QuerySet[ExecutionTrace]:
    """Traces of every organization the user belongs to."""
    return ExecutionTrace.objects.for_orgs(member_org_ids(request))


def org_traces(request: HttpRequest) -> QuerySet[ExecutionTrace]:
    """Traces of the organization being viewed (lists show one organization)."""
    if request.organization is None:
        return ExecutionTrace.objects.none()
    return ExecutionTrace.objects.for_org(request.organization)


def org_definitions(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """Metrics, alert rules or workflows of the organization being viewed."""
    if request.organization is None:
        return queryset.none()
    return queryset.filter(organization=request.organization)


def get_trace_or_404(request: HttpRequest, trace_id: object) -> ExecutionTrace:
    try:
        pk = parse_trace_id(trace_id)
    except TraceNotFound:
        raise Http404("No such trace.") from None
    trace = visible_traces(request).select_related("org").filter(pk=pk).first()
    if trace is None:
        raise Http404("No such trace.")
    return trace


def get_definition_or_404(request: HttpRequest, queryset: QuerySet, pk: object):
    """A metric, alert rule or workflow of one of the user's organizations."""
    try:
        return queryset.get(pk=int(str(pk)), organization_id__in=member_org_ids(request))
    except (ValueError, queryset.model.DoesNotExist):
        raise Http404("Not found.") from None


def membership_for(request: HttpRequest, organization_id: int) -> Membership | None:
    return next(
        (m for m in getattr(request, "memberships", []) if m.organization_id == organization_id),
        None,
    )


def can_run(request: HttpRequest, organization_id: int) -> bool:
    """Whether the user may start runs in this organization (editors, owners)."""
    membership = membership_for(request, organization_id)
    return membership is not None and membership.can_run


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from, for sign-in throttling: REMOTE_ADDR,
    or behind LINEAGE_TRUSTED_PROXY_COUNT proxies the address the outermost
    of them saw (counted from the right of X-Forwarded-For, which a client
    can only prepend to)."""
    proxies = settings.LINEAGE_TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
