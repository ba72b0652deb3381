"""The API tokens page: an organization's tokens; owners create (the secret
is shown once) and revoke them."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from lineage.api.models import ApiToken
from lineage.tenancy.models import Role

NAME_LENGTH = ApiToken._meta.get_field("name").max_length


def _is_owner(request: HttpRequest) -> bool:
    return request.membership is not None and request.membership.role == Role.OWNER


def _page(request: HttpRequest, status: int = 200, **extra) -> HttpResponse:
    tokens = ApiToken.objects.none()  # someone in no organization: the page says so
    if request.organization is not None:
        tokens = ApiToken.objects.for_org(request.organization).select_related("created_by")
    context = {"tokens": tokens, "is_owner": _is_owner(request), "name_length": NAME_LENGTH, **extra}
    return render(request, "api/tokens.html", context, status=status)


@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    if not _is_owner(request):
        raise PermissionDenied("Only owners create API tokens.")
    name = request.POST.get("name", "").strip().replace("\x00", "")
    if not name or len(name) > NAME_LENGTH:
        return _page(request, error=f"Give the token a name of 1 to {NAME_LENGTH} characters.", status=400)
    token, secret = ApiToken.issue(request.organization, name, created_by=request.user)
    # Rendered, not redirected: the secret goes in no URL, session or log.
    return _page(request, new_token=token, secret=secret, status=201)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not _is_owner(request):
        raise PermissionDenied("Only owners revoke API tokens.")
    token = get_object_or_404(ApiToken.objects.for_org(request.organization), pk=pk)
    token.revoke()
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked.")
    return redirect("api:tokens")
