from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "lineage.tenancy"
    label = "tenancy"
    verbose_name = "Organizations"
