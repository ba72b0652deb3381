"""Responses the dashboard's views share: a page or its HTMX partial, and
going to a trace's page."""
from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect


def page_or_partial(request: HttpRequest, template: str, partial: str) -> str:
    """The named partial for an HTMX swap; the whole page otherwise (also
    when HTMX restores a page missing from its history cache)."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#{partial}"
    return template


def trace_url(trace_id: uuid.UUID) -> str:
    return reverse("web:trace-detail", args=[trace_id])


def show_trace(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    """Go to the trace's page (HTMX follows with a client-side redirect)."""
    url = trace_url(trace_id)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
