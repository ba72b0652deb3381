"""Python metrics used by the tests, registered under their dotted paths."""
from lineage.metrics.registry import register_metric


@register_metric
def forty_two() -> int:
    return 42


@register_metric
def not_a_number() -> str:
    return "lots"
