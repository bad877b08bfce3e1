from incidentfox_web.api.urls import api_route
from tenancy import api

urlpatterns = [
    api_route("auth/me", api.AuthMeView.as_view(), "auth-me"),
    api_route("admin/teams", api.AdminTeamsView.as_view(), "admin-teams"),
    api_route("admin/teams/<team_id>/tokens", api.AdminTeamTokensView.as_view(), "admin-team-tokens"),
    api_route("admin/tokens/revoke", api.AdminTokenRevokeView.as_view(), "admin-token-revoke"),
    api_route("admin/audit", api.AdminAuditView.as_view(), "admin-audit"),
    api_route("admin/settings", api.AdminSettingsView.as_view(), "admin-settings"),
]
