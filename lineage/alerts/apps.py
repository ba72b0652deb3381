from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "lineage.alerts"
    label = "alerts"

    def ready(self) -> None:
        from lineage.alerts import describers  # noqa: F401  (registers the describer)
        from lineage.alerts.models import AlertRule
        from lineage.observability.models import TraceType
        from lineage.observability.subjects import register_definition

        register_definition(TraceType.ALERT, AlertRule)
