from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API (/api/v1/) and the API tokens that open it."""

    name = "lineage.api"
    label = "api"
