"""The API under /api/v1/ (and a JSON 404 for any other /api/ address),
and the dashboard's API tokens page."""
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, path, re_path

from lineage.api import token_views
from lineage.api.endpoints import api, not_found

app_name = "api"


def _open_to_tokens(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """The API authenticates each request itself (a token or the session):
    the site's login redirect must not answer for it."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _open_to_tokens(pattern.url_patterns)
        else:
            login_not_required(pattern.callback)
    return patterns


api_patterns, _, api_namespace = api.urls

urlpatterns = [
    path("api-tokens/", token_views.token_list, name="tokens"),
    path("api-tokens/new/", token_views.token_create, name="token-create"),
    path("api-tokens/<int:pk>/revoke/", token_views.token_revoke, name="token-revoke"),
]

# Included at the root, outside the "api" namespace's page names.
api_urlpatterns = [
    path("api/v1/", (_open_to_tokens(api_patterns), "ninja", api_namespace)),
    re_path(r"^api/(?P<rest>.*)$", login_not_required(not_found)),
]
