from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "lineage.web"
    label = "web"
