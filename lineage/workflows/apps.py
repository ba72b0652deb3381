from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "lineage.workflows"
    label = "workflows"

    def ready(self) -> None:
        from lineage.observability.models import TraceType
        from lineage.observability.subjects import register_definition
        from lineage.workflows import describers, steps  # noqa: F401  (registers them)
        from lineage.workflows.models import Workflow

        register_definition(TraceType.WORKFLOW, Workflow)
