from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def trace_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/trace_list.html", {})
