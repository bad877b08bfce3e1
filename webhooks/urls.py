from incidentfox_web.api.routers import ApiRouter
from incidentfox_web.api.urls import api_route
from webhooks import api

router = ApiRouter()
router.register("webhooks/deliveries", api.WebhookDeliveryViewSet, basename="webhooks-deliveries")

urlpatterns = [
    api_route("webhooks/secret", api.WebhookSecretView.as_view(), "webhooks-secret"),
    api_route("webhooks/secret/rotate", api.WebhookSecretRotateView.as_view(), "webhooks-secret-rotate"),
    *router.urls,
    api_route("webhooks/test", api.WebhookTestView.as_view(), "webhooks-test"),
]
