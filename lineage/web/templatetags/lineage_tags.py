"""Small display helpers for the dashboard's templates."""
from __future__ import annotations

import uuid
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lineage.observability.formatting import (
    cut_middle,
    format_ago,
    format_day_time,
    format_duration,
    format_json,
    format_number,
    format_timestamp,
    timezone_name,
)
from lineage.observability.history import root_cause, trace_result
from lineage.observability.subjects import Subject

register = template.Library()

# “340 ms”, “4.2 s”, “3 min 5 s”; “—” while unfinished.
register.filter("duration", format_duration)
# Indented JSON, returned unsafe so the template escapes it.
register.filter("pretty_json", format_json)
# The exact time with its zone (“Nov 27, 2026 10:05:03 UTC”), everywhere.
register.filter("timestamp", format_timestamp)
# “21:15 yesterday”.
register.filter("day_time", format_day_time)
# An error's innermost cause (“Connection refused at 127.0.0.1:9”).
register.filter("root_cause", root_cause)
# What a trace produced (“computed 6”, “fired by 1”, “step 1 failed”).
register.filter("run_result", trace_result)
register.filter("number", format_number)
register.simple_tag(timezone_name, name="timezone_name")


@register.filter
def cut(text: str, limit: int = 160) -> str:
    """Long text cut in the middle, keeping the cause at its end."""
    return cut_middle(text, int(limit))


@register.simple_tag
def moment(value) -> SafeString:
    """A time as “12 min ago”, the exact time on hover; lineage.js keeps the
    words current while the page stays open."""
    if value is None:
        return format_html('<span class="muted">—</span>')
    return format_html(
        '<time datetime="{}" title="{}" data-relative>{}</time>',
        value.isoformat(),
        format_timestamp(value),
        format_ago(value),
    )


@register.filter
def definition_url(subject: str) -> str:
    """The page of the metric, alert or workflow a trace ran (each kind's
    page is web:<kind>-detail), or ""."""
    parsed = Subject.parse(subject)
    if parsed is None or parsed.model is None:
        return ""  # not a run of a definition (a step, an ad-hoc run)
    return reverse(f"web:{parsed.kind}-detail", args=[parsed.pk])


@register.simple_tag
def status_badge(status: str) -> SafeString:
    return format_html('<span class="badge status-{0}">{0}</span>', status)


@register.simple_tag
def type_badge(trace_type: str) -> SafeString:
    return format_html('<span class="type type-{0}">{0}</span>', trace_type)


@register.filter
def get(mapping: dict, key: str):
    """mapping[key] in a template (None when missing)."""
    return mapping.get(key)


_NO_ID = uuid.UUID(int=0)


@lru_cache(maxsize=8)
def _trace_url_pattern(script_prefix: str) -> str:
    return reverse("web:trace-detail", args=[_NO_ID]).replace(str(_NO_ID), "{}")


@register.filter
def trace_href(trace_id: uuid.UUID) -> str:
    """{% url 'web:trace-detail' id %}, without resolving the URL again for
    each of the hundreds of links a list or a history strip draws."""
    return _trace_url_pattern(get_script_prefix()).format(uuid.UUID(str(trace_id)))
