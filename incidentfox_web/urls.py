"""Top-level routes. Each app contributes its API routes under /api/v1; unknown /api paths get the JSON 404."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

import alerts.urls
import investigations.urls
import knowledge.urls
import teamconfig.urls
import tenancy.urls
import webhooks.urls
from incidentfox_web.api.views import health, route_not_found
from ops import views as ops_views

# The apps' API routes side by side in one list (not one include() each): resolving a request then walks one
# level fewer, on every API request.
api_v1: list[URLPattern | URLResolver] = [
    *tenancy.urls.urlpatterns,
    *investigations.urls.urlpatterns,
    *teamconfig.urls.urlpatterns,
    *webhooks.urls.urlpatterns,
    *alerts.urls.urlpatterns,
    *knowledge.urls.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("health", health, name="health"),
    path("ready", ops_views.ready, name="ready"),  # readiness: database, Redis, worker heartbeats
    path("metrics", ops_views.metrics, name="metrics"),  # Prometheus, behind METRICS_TOKEN
    re_path(r"^api/v1/health/?$", health, name="api-health"),
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Redoc runs its search in a worker it creates from a blob: URL; everything else keeps the site's policy.
    path(
        "api/redoc/",
        csp_override({**settings.SECURE_CSP, "worker-src": [CSP.SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="api-redoc",
    ),
    re_path(r"^api/", route_not_found),
    # Web app: the admin signs in through the app's login page (SSO and/or local), so one switch governs both.
    path("admin/login/", RedirectView.as_view(pattern_name="web:login", query_string=True), name="admin-login"),
    path("admin/", admin.site.urls),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("web.urls")),
]

handler404 = "web.views.errors.not_found"
handler500 = "web.views.errors.server_error"
