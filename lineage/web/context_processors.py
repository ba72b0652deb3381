from __future__ import annotations

from django.http import HttpRequest


def organizations(request: HttpRequest) -> dict:
    return {
        "organization": getattr(request, "organization", None),
        "memberships": getattr(request, "memberships", []),
        "membership": getattr(request, "membership", None),
    }
