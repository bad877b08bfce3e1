from alerts import api
from incidentfox_web.api.urls import api_route

urlpatterns = [
    api_route("integrations/deliveries", api.AlertDeliveryListView.as_view(), "integrations-deliveries"),
    api_route(
        "integrations/alertmanager/<org_id>/<team_id>",
        api.AlertmanagerWebhookView.as_view(),
        "integrations-alertmanager",
    ),
    api_route(
        "integrations/pagerduty/<org_id>/<team_id>", api.PagerDutyWebhookView.as_view(), "integrations-pagerduty"
    ),
    api_route(
        "integrations/incidentio/<org_id>/<team_id>", api.IncidentIoWebhookView.as_view(), "integrations-incidentio"
    ),
]
