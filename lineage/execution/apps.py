from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    name = "lineage.execution"
    label = "execution"

    def ready(self) -> None:
        # The run_metric step kind lives here: running a metric from a
        # workflow runs what its value sets off, which only execution knows.
        from lineage.execution import steps  # noqa: F401
