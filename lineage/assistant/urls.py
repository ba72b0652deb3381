from django.urls import path

from lineage.assistant import views

app_name = "assistant"

urlpatterns = [
    path("", views.ask, name="ask"),
    path("trace/<uuid:trace_id>/", views.trace_question, name="trace-question"),
]
