from django.urls import path

from lineage.web import graph_views, views

app_name = "web"

urlpatterns = [
    path("", views.trace_list, name="trace-list"),
    path("traces/<uuid:trace_id>/lineage.svg", graph_views.trace_lineage_svg, name="trace-lineage-svg"),
    path("traces/<uuid:trace_id>/lineage.dot", graph_views.trace_lineage_dot, name="trace-lineage-dot"),
]
