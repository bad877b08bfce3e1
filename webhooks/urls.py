from incidentfox_web.api.urls import api_route
from webhooks import api

urlpatterns = [
    api_route("webhooks/secret", api.WebhookSecretView.as_view(), "webhooks-secret"),
    api_route("webhooks/secret/rotate", api.WebhookSecretRotateView.as_view(), "webhooks-secret-rotate"),
    api_route("webhooks/deliveries", api.WebhookDeliveryListView.as_view(), "webhooks-deliveries"),
    api_route("webhooks/test", api.WebhookTestView.as_view(), "webhooks-test"),
]
