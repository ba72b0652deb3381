from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    name = "lineage.execution"
    label = "execution"

    def ready(self) -> None:
        # The metric describer and the run_metric step kind live here: only the
        # execution engine knows how metrics are computed.
        from lineage.execution import describers, steps  # noqa: F401
