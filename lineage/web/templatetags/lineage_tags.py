"""Small display helpers for the dashboard's templates."""
from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from lineage.observability.explain import format_number

register = template.Library()

# Which page shows the definition a trace's `subject` names ("metric:3").
_DEFINITION_PAGES = {
    "metric": "web:metric-detail",
    "alert": "web:alert-detail",
    "workflow": "web:workflow-detail",
}


@register.filter
def duration(value: timedelta | None) -> str:
    """“340 ms”, “4.2 s”, “3 min 5 s”, “2 h 4 min”; “—” while unfinished."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{max(seconds, 0) * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def pretty_json(value: object) -> str:
    """Indented JSON; returned unsafe, so the template escapes it."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def definition_url(subject: str) -> str:
    """The page of the metric, alert or workflow a trace ran, or ""."""
    kind, _, pk = (subject or "").partition(":")
    if kind not in _DEFINITION_PAGES or not pk.isdigit():
        return ""
    return reverse(_DEFINITION_PAGES[kind], args=[int(pk)])


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
