from django.urls import path

from lineage.web import ask_views, definition_views, graph_views, trace_views, views

app_name = "web"

urlpatterns = [
    path("", trace_views.trace_list, name="trace-list"),
    path("traces/", trace_views.trace_list, name="trace-list-alias"),
    path("traces/<uuid:trace_id>/", trace_views.trace_detail, name="trace-detail"),
    path("traces/<uuid:trace_id>/rerun/", trace_views.trace_rerun, name="trace-rerun"),
    path("traces/<uuid:trace_id>/run/", trace_views.run_traces, name="run-traces"),
    path("traces/<uuid:trace_id>/compare/", trace_views.trace_compare, name="trace-compare"),
    path("traces/<uuid:trace_id>/lineage.svg", graph_views.trace_lineage_svg, name="trace-lineage-svg"),
    path("traces/<uuid:trace_id>/lineage.dot", graph_views.trace_lineage_dot, name="trace-lineage-dot"),
    path("failures/", trace_views.failures, name="failures"),
    path("metrics/", definition_views.metric_list, name="metric-list"),
    path("metrics/<int:pk>/", definition_views.metric_detail, name="metric-detail"),
    path("metrics/<int:pk>/run/", definition_views.metric_run, name="metric-run"),
    path("metrics/<int:pk>/preview/", definition_views.metric_preview, name="metric-preview"),
    path("alerts/", definition_views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", definition_views.alert_detail, name="alert-detail"),
    path("workflows/", definition_views.workflow_list, name="workflow-list"),
    path("workflows/<int:pk>/", definition_views.workflow_detail, name="workflow-detail"),
    path("workflows/<int:pk>/run/", definition_views.workflow_run, name="workflow-run"),
    path("ask/", ask_views.ask, name="ask"),
    path("ask/run/", ask_views.confirm_run, name="ask-run"),
    path("ask/trace/<uuid:trace_id>/", ask_views.trace_question, name="trace-question"),
    path("organization/", views.switch_organization, name="switch-organization"),
]
