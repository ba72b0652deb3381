from django.urls import path

from lineage.web import graph_views, views

app_name = "web"

urlpatterns = [
    path("", views.trace_list, name="trace-list"),
    path("traces/", views.trace_list, name="trace-list-alias"),
    path("traces/<uuid:trace_id>/", views.trace_detail, name="trace-detail"),
    path("traces/<uuid:trace_id>/rerun/", views.trace_rerun, name="trace-rerun"),
    path("traces/<uuid:trace_id>/lineage.svg", graph_views.trace_lineage_svg, name="trace-lineage-svg"),
    path("traces/<uuid:trace_id>/lineage.dot", graph_views.trace_lineage_dot, name="trace-lineage-dot"),
    path("failures/", views.failures, name="failures"),
    path("metrics/", views.metric_list, name="metric-list"),
    path("metrics/<int:pk>/", views.metric_detail, name="metric-detail"),
    path("metrics/<int:pk>/run/", views.metric_run, name="metric-run"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("workflows/", views.workflow_list, name="workflow-list"),
    path("workflows/<int:pk>/", views.workflow_detail, name="workflow-detail"),
    path("workflows/<int:pk>/run/", views.workflow_run, name="workflow-run"),
    path("organization/", views.switch_organization, name="switch-organization"),
]
