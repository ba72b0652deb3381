"""Small display helpers for the dashboard's templates."""
from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lineage.observability.formatting import format_duration, format_json, format_number
from lineage.observability.subjects import Subject

register = template.Library()

# “340 ms”, “4.2 s”, “3 min 5 s”; “—” while unfinished.
register.filter("duration", format_duration)
# Indented JSON, returned unsafe so the template escapes it.
register.filter("pretty_json", format_json)


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
def run_result(trace) -> str:
    """What a finished run produced, in a few words, from its outputs."""
    outputs = trace.outputs or {}
    if trace.trace_type == "metric" and outputs.get("value") is not None:
        return f"= {format_number(outputs['value'])}"
    if trace.trace_type == "alert" and "fired" in outputs:
        return "fired" if outputs["fired"] else "did not fire"
    if trace.trace_type == "workflow" and "failed_step" in outputs:
        return f"stopped at step {outputs['failed_step'].get('position', '?')}"
    if trace.trace_type == "workflow" and "steps_run" in outputs:
        return f"{outputs['steps_run']} step{'s' if outputs['steps_run'] != 1 else ''} run"
    return ""
