from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "lineage.metrics"
    label = "metrics"
