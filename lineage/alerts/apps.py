from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "lineage.alerts"
    label = "alerts"

    def ready(self) -> None:
        from lineage.alerts import describers  # noqa: F401  (registers the describer)
