"""Who calls the API: an organization's API token (Authorization: Bearer …),
or a signed-in browser (its session, with the CSRF token on POST).

A token reads only its organization. A person reads the organizations they
belong to, and lists show the one they are viewing, as on the pages. Any
other organization's trace or definition is a 404, as on the pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth

from lineage.api.models import ApiToken
from lineage.observability.ids import TraceNotFound, parse_trace_id
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Organization


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        """The token given; a wrong or revoked one is refused outright, never
        passed over for the browser's session."""
        api_token = ApiToken.objects.find(token)
        if api_token is None:
            raise AuthenticationError()
        api_token.note_use()
        return api_token


class BrowserSession(SessionAuth):
    """The dashboard's session; POSTs need its CSRF token (X-CSRFToken)."""


@dataclass(frozen=True)
class Caller:
    org_ids: list[int]  # whose traces and definitions may be read
    organization: Organization | None  # whose traces lists show
    user: Any = None
    can_run: bool = False
    memberships: list[Any] = field(default_factory=list)

    def traces(self):
        return ExecutionTrace.objects.for_orgs(self.org_ids)

    def listed_traces(self):
        if self.organization is None:
            return ExecutionTrace.objects.none()
        return ExecutionTrace.objects.for_org(self.organization)

    def trace(self, trace_id: object) -> ExecutionTrace:
        """One of the caller's traces; 404 for any other id, well-formed or not."""
        try:
            pk = parse_trace_id(trace_id)
        except TraceNotFound:
            raise HttpError(404, "No such trace.") from None
        trace = self.traces().filter(pk=pk).first()
        if trace is None:
            raise HttpError(404, "No such trace.")
        return trace

    def organization_of(self, org_id: int) -> Organization | None:
        if isinstance(self.organization, Organization) and self.organization.pk == org_id:
            return self.organization
        return next((m.organization for m in self.memberships if m.organization_id == org_id), None)


def caller(request: HttpRequest) -> Caller:
    if isinstance(request.auth, ApiToken):
        return Caller([request.auth.organization_id], request.auth.organization)
    memberships = list(getattr(request, "memberships", []))
    membership = getattr(request, "membership", None)
    return Caller(
        org_ids=[m.organization_id for m in memberships],
        organization=getattr(request, "organization", None),
        user=request.user,
        can_run=bool(membership and membership.can_run),
        memberships=memberships,
    )
