from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "lineage.assistant"
    label = "assistant"
