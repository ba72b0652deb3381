from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "lineage.metrics"
    label = "metrics"

    def ready(self) -> None:
        from lineage.metrics import describers  # noqa: F401  (registers the describer)
        from lineage.metrics.models import Metric
        from lineage.observability.models import TraceType
        from lineage.observability.subjects import register_definition

        register_definition(TraceType.METRIC, Metric)
        from lineage.metrics.registry import import_metric_modules

        import_metric_modules()
