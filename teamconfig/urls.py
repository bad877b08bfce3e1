from incidentfox_web.api.urls import api_route
from teamconfig import api

urlpatterns = [
    api_route("config/me", api.ConfigMeView.as_view(), "config-me"),
    api_route("config/me/effective", api.ConfigEffectiveView.as_view(), "config-effective"),
    api_route("config/me/raw", api.ConfigRawView.as_view(), "config-raw"),
    api_route("config/me/audit", api.ConfigAuditView.as_view(), "config-audit"),
    api_route("config/me/tools/<tool>/test", api.DataSourceTestView.as_view(), "config-tool-test"),
    api_route("config/me/pending", api.ConfigPendingView.as_view(), "config-pending"),
    api_route("admin/changes", api.AdminChangesView.as_view(), "admin-changes"),
    api_route(
        "admin/changes/<change_request_id>/approve",
        api.AdminChangeApproveView.as_view(),
        "admin-change-approve",
    ),
    api_route("admin/changes/<change_request_id>/reject", api.AdminChangeRejectView.as_view(), "admin-change-reject"),
    api_route("admin/teams/<node_id>/config", api.AdminNodeConfigView.as_view(), "admin-node-config"),
]
