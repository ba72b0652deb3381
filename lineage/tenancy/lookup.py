"""Finding organizations and definitions by the names people type."""
from __future__ import annotations

import difflib

from django.db.models import Model, QuerySet

from lineage.tenancy.models import Organization


class NotFound(LookupError):
    """An unknown name; the message suggests near matches."""


def suggest(name: str, candidates: list[str]) -> str:
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"“{by_lower[c]}”" for c in close) + "?"


def resolve_organization(slug: str | None) -> Organization:
    """The organization with this slug; without one, the only organization."""
    if slug:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            slugs = list(Organization.objects.values_list("slug", flat=True))
            raise NotFound(f"No organization “{slug}”.{suggest(slug, slugs)}")
        return organization
    organizations = list(Organization.objects.all()[:2])
    if len(organizations) == 1:
        return organizations[0]
    if not organizations:
        raise NotFound("There are no organizations yet (try: manage.py seed_demo).")
    raise NotFound("Several organizations exist: choose one with --org SLUG.")


def get_by_name(queryset: QuerySet, name: str, noun: str) -> Model:
    """Exact name first, then case-insensitive; else NotFound with suggestions."""
    match = queryset.filter(name=name).first() or queryset.filter(name__iexact=name.strip()).first()
    if match is None:
        names = list(queryset.values_list("name", flat=True))
        raise NotFound(f"No {noun} named “{name}”.{suggest(name, names)}")
    return match
