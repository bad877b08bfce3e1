from alerts import api
from incidentfox_web.api.routers import ApiRouter
from incidentfox_web.api.urls import api_route

router = ApiRouter()
router.register("integrations/deliveries", api.AlertDeliveryViewSet, basename="integrations-deliveries")

urlpatterns = [
    *router.urls,
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
