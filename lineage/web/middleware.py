from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from lineage.observability.models import TraceSource
from lineage.observability.tracer import trace_scope
from lineage.tenancy.models import Membership

SESSION_KEY = "organization"


def current_organization(get_response: Callable[[HttpRequest], HttpResponse]):
    """Resolve the signed-in user's organizations and the one being viewed.

    Runs inside a trace scope, so any run a request starts is attributed to
    its organization, started by hand by this user.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        request.memberships = []
        request.membership = None
        request.organization = None
        if request.user.is_authenticated:
            memberships = list(
                Membership.objects.for_user(request.user)
                .select_related("organization")
                .order_by("organization__name")
            )
            chosen = request.session.get(SESSION_KEY)
            current = next(
                (m for m in memberships if m.organization.slug == chosen),
                memberships[0] if memberships else None,
            )
            request.memberships = memberships
            request.membership = current
            request.organization = current.organization if current else None
        with trace_scope(
            org=request.organization,
            source=TraceSource.MANUAL,
            started_by=request.user.get_username() if request.user.is_authenticated else "",
        ):
            return get_response(request)

    return middleware
