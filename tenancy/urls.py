from incidentfox_web.api.routers import ApiRouter
from incidentfox_web.api.urls import api_route
from tenancy import api

router = ApiRouter()
router.register("admin/teams", api.AdminTeamViewSet, basename="admin-teams")
router.register("admin/tokens", api.AdminTokenViewSet, basename="admin-tokens")

urlpatterns = [
    api_route("auth/me", api.AuthMeView.as_view(), "auth-me"),
    *router.urls,
    api_route("admin/audit", api.AdminAuditView.as_view(), "admin-audit"),
    api_route("admin/settings", api.AdminSettingsView.as_view(), "admin-settings"),
]
