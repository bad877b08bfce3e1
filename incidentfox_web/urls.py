"""Top-level routes. Each app contributes its API routes under /api/v1; unknown /api paths get the JSON 404."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from incidentfox_web.api.views import health, route_not_found

api_v1 = [
    path("", include("tenancy.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("health", health, name="health"),
    re_path(r"^api/v1/health/?$", health, name="api-health"),
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    re_path(r"^api/", route_not_found),
    path("admin/", admin.site.urls),
]
