from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark: loads lineage-shaped data and measures the product.
    Nothing in the product imports it."""

    name = "lineage.bench"
    label = "bench"
