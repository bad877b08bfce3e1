"""The webhook endpoints (API.md §6.2, §6.4): adapters from HTTP to one service or selector each."""

from __future__ import annotations

from urllib.parse import urlsplit

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.formats import iso_z, parse_query_choice
from incidentfox_web.api.pagination import ApiPagination
from incidentfox_web.api.permissions import TeamWriteAccess
from incidentfox_web.api.schema import ERROR_RESPONSES, TEAM_HEADER
from incidentfox_web.api.views import ApiView, ApiViewSet
from webhooks.delivery import configured_url, webhook_test_send
from webhooks.schemas import (
    OUTCOMES,
    WebhookDeliveryOut,
    WebhookSecretOut,
    WebhookTestIn,
    WebhookTestOut,
)
from webhooks.selectors import deliveries_for_team, delivery_body
from webhooks.signing import SecretView, webhook_secret_get, webhook_secret_rotate


def _secret_body(view: SecretView) -> dict[str, str | None]:
    return {
        "secret": view.secret,
        "created_at": iso_z(view.created_at),
        "previous_secret_expires_at": iso_z(view.previous_secret_expires_at),
    }


class WebhookSecretView(ApiView):
    permission_classes = [TeamWriteAccess]  # secrets are team:write even to read (API.md §2.4)

    @extend_schema(
        summary="The team's webhook signing secret",
        parameters=[TEAM_HEADER],
        responses={200: WebhookSecretOut, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        body = _secret_body(webhook_secret_get(team=self.selected_team()))
        return Response(body, headers={"Cache-Control": "no-store"})


class WebhookSecretRotateView(ApiView):
    @extend_schema(
        summary="Rotate the signing secret; the previous one co-signs for 24 h",
        parameters=[TEAM_HEADER],
        request=None,
        responses={200: WebhookSecretOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        view = webhook_secret_rotate(team=self.selected_team(), meta=self.request_meta())
        return Response(_secret_body(view), headers={"Cache-Control": "no-store"})


class DeliveryPages(ApiPagination):
    items_key = "deliveries"
    default_limit = 50
    max_limit = 100


class WebhookDeliveryViewSet(ApiViewSet):
    """The team's outbound webhook delivery log."""

    # ``webhooks/deliveries`` on the router (``webhooks.urls``).

    pagination_class = DeliveryPages

    @extend_schema(
        summary="Delivery attempts of the team's webhooks, newest first",
        parameters=[
            TEAM_HEADER,
            OpenApiParameter("investigation_id", str, required=False),
            OpenApiParameter("outcome", str, required=False, enum=OUTCOMES),
        ],
        responses={200: WebhookDeliveryOut(many=True), **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        params = request.query_params
        outcome = parse_query_choice(params.get("outcome"), field="outcome", choices=OUTCOMES)
        rows = deliveries_for_team(
            self.selected_team(), investigation_id=params.get("investigation_id"), outcome=outcome
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([delivery_body(row) for row in page or []])


def _checked_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or parts.username is not None or parts.password is not None:
        raise ApiError.validation("url", "must be an absolute http or https URL without user info")
    return value


class WebhookTestView(ApiView):
    @extend_schema(
        summary="Send one signed webhook.test event now (200 whatever the target answered)",
        parameters=[TEAM_HEADER],
        request=WebhookTestIn,
        responses={200: WebhookTestOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        requested = self.validated(WebhookTestIn).get("url")
        team = self.selected_team()
        url = _checked_url(requested) if requested else configured_url(team)
        if url is None:
            raise ApiError.invalid_request("No investigation_complete webhook URL configured")
        sent = webhook_test_send(team=team, url=url)
        delivery = sent.delivery
        return Response(
            {
                "delivery_id": delivery.delivery_id,
                "webhook_id": sent.webhook_id,
                "url": sent.url,
                "success": sent.success,
                "response_status": delivery.response_status,
                "duration_ms": delivery.duration_ms,
                "error": delivery.error or None,
            }
        )
