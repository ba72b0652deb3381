from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "lineage.observability"
    label = "observability"
    verbose_name = "Execution traces"
