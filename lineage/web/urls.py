from django.urls import path

from lineage.web import views

app_name = "web"

urlpatterns = [
    path("", views.trace_list, name="trace-list"),
]
