from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "lineage.workflows"
    label = "workflows"

    def ready(self) -> None:
        from lineage.workflows import describers  # noqa: F401  (registers the describers)
