"""Pages that belong to no one kind of thing: the organization switcher.

The dashboard's pages live by what they show: trace_views (traces,
failures), definition_views (metrics, alerts, workflows), graph_views
(lineage graphs) and ask_views (the assistant).
"""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from lineage.web.middleware import SESSION_KEY


@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Remember which of the user's organizations the lists show."""
    slug = request.POST.get("organization", "")
    if any(m.organization.slug == slug for m in request.memberships):
        request.session[SESSION_KEY] = slug
    else:
        messages.error(request, "You are not a member of that organization.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("web:trace-list")
    return redirect(next_url)
