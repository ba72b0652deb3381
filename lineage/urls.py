from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lineage.api.urls import api_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    *api_urlpatterns,
    path("", include("lineage.api.urls")),
    path("", include("lineage.web.urls")),
]
