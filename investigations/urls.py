from incidentfox_web.api.urls import api_route
from investigations import api, postmortem_api

urlpatterns = [
    api_route("agents", api.AgentListView.as_view(), "agents"),
    api_route("agents/run", api.agent_run, "agents-run"),
    api_route("agents/investigations", api.InvestigationListView.as_view(), "agents-investigations"),
    api_route("agents/status/<investigation_id>", api.InvestigationStatusView.as_view(), "agents-status"),
    api_route("agents/status/<investigation_id>/cancel", api.InvestigationCancelView.as_view(), "agents-cancel"),
    api_route(
        "agents/status/<investigation_id>/postmortem", postmortem_api.PostmortemView.as_view(), "agents-postmortem"
    ),
]
