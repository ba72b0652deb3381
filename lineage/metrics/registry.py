"""Python metrics: the callables registered as metrics, by name.

A metric's `python_path` names an entry here and nothing else: a name that
is not registered is refused when the metric is saved and when it runs, and
no module is ever imported because a definition names it. Callables register
themselves with `@register_metric`; the modules that hold them are listed in
LINEAGE_PYTHON_METRIC_MODULES (an operator's setting, imported at start-up).
"""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError

MetricFunction = Callable[[], object]

PYTHON_METRICS: dict[str, MetricFunction] = {}


def register_metric(
    name: str | MetricFunction | None = None,
) -> Callable[[MetricFunction], MetricFunction] | MetricFunction:
    """Register a callable as a Python metric, under `name` or else its
    dotted path (`package.module.function`, what python_path used to hold)."""

    def register(function: MetricFunction) -> MetricFunction:
        key = name if isinstance(name, str) else f"{function.__module__}.{function.__qualname__}"
        PYTHON_METRICS[key] = function
        return function

    if callable(name):  # used bare: @register_metric
        return register(name)
    return register


def registered_metric(name: str) -> MetricFunction:
    """The callable registered as `name`; ValidationError, listing what is
    registered, otherwise."""
    function = PYTHON_METRICS.get(name.strip())
    if function is None:
        known = ", ".join(sorted(PYTHON_METRICS)) or "none are registered"
        raise ValidationError(
            f"“{name}” is not a registered Python metric (registered: {known}). "
            "Register a callable with @register_metric in a module listed in "
            "LINEAGE_PYTHON_METRIC_MODULES."
        )
    return function


def import_metric_modules() -> None:
    """Import the operator's metric modules so their callables register."""
    for module in settings.LINEAGE_PYTHON_METRIC_MODULES:
        import_module(module)
