from django.apps import AppConfig


class ExportConfig(AppConfig):
    """Traces leaving Lineage: OpenTelemetry spans and OpenLineage events."""

    name = "lineage.export"
    label = "export"

    def ready(self) -> None:
        from lineage.export.live import start_from_settings

        start_from_settings()
