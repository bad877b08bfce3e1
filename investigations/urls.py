from incidentfox_web.api.urls import api_route
from investigations import api

# The contract puts the history list and one investigation's status under different prefixes, so the viewset is
# bound to its paths here rather than registered on a router.
investigations = api.InvestigationViewSet

urlpatterns = [
    api_route("agents", api.AgentListView.as_view(), "agents"),
    api_route("agents/run", api.agent_run, "agents-run"),
    api_route("agents/investigations", investigations.as_view({"get": "list"}), "agents-investigations"),
    api_route("agents/status/<investigation_id>", investigations.as_view({"get": "retrieve"}), "agents-status"),
    api_route("agents/status/<investigation_id>/cancel", investigations.as_view({"post": "cancel"}), "agents-cancel"),
]
