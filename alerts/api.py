"""``POST /integrations/{provider}/{org_id}/{team_id}`` (API.md §7): an alert provider starts investigations.
``GET /integrations/deliveries``: the team's log of those deliveries (what each alert became).

There is no API token here: the provider proves itself with the team's secret from ``integrations.<provider>``.
The usual precedence holds (401 → 429 → 415 → 413 → 400). Two of the three providers sign the raw body, so the body
is read before the proof is checked, up to ``VERIFY_MAX_BODY_BYTES``; a body beyond even that is refused with 413
at once, alike for every team. An unknown org or team, a group, a disabled or absent integration and a bad secret
all give the same 401 (counted by client IP, like every 401); then comes the ``integration`` rate limit per team
and provider.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import schemas
from alerts.models import ProviderChoice
from alerts.providers import CREDENTIAL_HEADERS, PARSERS, VERIFIERS, PayloadInvalid, Provider
from alerts.selectors import alert_deliveries_for_team, alert_delivery_body
from alerts.services import alert_delivery_record, alerts_receive, integration_for
from incidentfox_web.api import ratelimit
from incidentfox_web.api.errors import WWW_AUTHENTICATE, ApiError, InvalidCredential
from incidentfox_web.api.formats import parse_query_choice
from incidentfox_web.api.middleware import client_ip
from incidentfox_web.api.pagination import ApiPagination
from incidentfox_web.api.parsers import DEFAULT_MAX_BODY_BYTES, parse_json_object, read_limited
from incidentfox_web.api.schema import ERROR_RESPONSES, TEAM_HEADER
from incidentfox_web.api.throttling import SharedRateThrottle
from incidentfox_web.api.views import ApiView, ApiViewSet
from teamconfig.selectors import InboundIntegration
from tenancy.audit import RequestMeta
from tenancy.models import Node

BUCKET = "integration"
VERIFY_MAX_BODY_BYTES = 4 * DEFAULT_MAX_BODY_BYTES  # read this much to check a signature, then 413 beyond 1 MiB


class AlertWebhookView(ApiView):
    provider: ClassVar[Provider]
    rate_bucket = BUCKET
    authentication_classes = []  # the provider's own proof, checked in ``initial``
    team: Node | None = None  # set once the delivery has proved the team's secret
    integration: InboundIntegration
    raw_body: bytes

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.route_checks(request, **kwargs)
        raw = read_limited(request.stream, VERIFY_MAX_BODY_BYTES)
        headers = {name.lower(): value for name, value in request.headers.items()}
        found = integration_for(kwargs["org_id"], kwargs["team_id"], self.provider)
        throttle = SharedRateThrottle()
        if found is None or not VERIFIERS[self.provider](found[1].settings, raw, headers):
            if not throttle.allow_request(request, self):  # by client IP, like every 401
                self.throttled(request, throttle.wait())
            if not any(name in headers for name in CREDENTIAL_HEADERS[self.provider]):
                raise exceptions.NotAuthenticated()
            raise InvalidCredential()
        team, self.integration = found
        self.team = team  # from here on, errors are logged for the team (``handle_exception``)
        key = f"{team.org.org_id}/{team.node_id}:{self.provider}"
        if not throttle.count(request, bucket=BUCKET, key=key, limit=team.org.rate_limit(BUCKET)):
            self.throttled(request, throttle.wait())
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise exceptions.UnsupportedMediaType(media_type)
        if len(raw) > self.max_body_bytes:
            raise ApiError.too_large(f"Request body exceeds {self.max_body_bytes} bytes")
        self.raw_body = raw

    def handle_exception(self, exc: Exception) -> Response:
        """Every error answered to a delivery that proved the team's secret goes into the team's delivery log —
        of the 429s only the first of each window, so a tool retrying in a storm cannot flood the log (or the
        database) with one row per refusal."""
        response = super().handle_exception(exc)
        team = self.team
        if team is not None and not self._repeated_refusal(response):
            error = response.data.get("error", {}) if isinstance(response.data, dict) else {}
            message = str(error.get("message", ""))
            if response.status_code == 429:
                message += " (later refusals in this minute are not listed)"
            alert_delivery_record(
                team=team,
                provider=self.provider,
                status_code=response.status_code,
                request_id=getattr(self.request, "request_id", ""),
                error=message,
            )
        return response

    def _repeated_refusal(self, response: Response) -> bool:
        decision: ratelimit.RateDecision | None = getattr(self.request, "rate_decision", None)
        return response.status_code == 429 and decision is not None and decision.count > decision.limit + 1

    def get_authenticate_header(self, request: Request) -> str:
        return WWW_AUTHENTICATE  # keeps DRF from turning the 401s into 403s (this view has no authenticators)

    @extend_schema(
        summary="Receive an alert webhook; each accepted alert starts one async planner investigation",
        description=(
            "Authenticated by the team's `integrations.<provider>` secret instead of a token: Alertmanager sends "
            "`Authorization: Bearer <bearer_token>`, PagerDuty signs with `X-PagerDuty-Signature: v1=<hex "
            "HMAC-SHA256>`, incident.io with Standard Webhooks headers. Unknown teams, disabled integrations and "
            "bad secrets all answer the same 401."
        ),
        auth=[],
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("org_id", str, OpenApiParameter.PATH),
            OpenApiParameter("team_id", str, OpenApiParameter.PATH),
        ],
        responses={202: schemas.AlertReceipt, **{code: ERROR_RESPONSES[code] for code in (400, 401, 413, 415, 429)}},
    )
    def post(self, request: Request, org_id: str, team_id: str) -> Response:
        try:
            alerts = PARSERS[self.provider](parse_json_object(self.raw_body))
        except PayloadInvalid as exc:
            raise ApiError.invalid_request(str(exc)) from None
        meta = RequestMeta(
            actor=f"integration:{self.provider}",
            request_id=getattr(request, "request_id", ""),
            ip_address=client_ip(request, settings.TRUSTED_PROXY_COUNT),
        )
        team = self.team
        assert team is not None  # ``initial`` refused the request otherwise
        receipt = alerts_receive(
            team=team, provider=self.provider, integration=self.integration, alerts=alerts, meta=meta
        )
        alert_delivery_record(
            team=team, provider=self.provider, status_code=202, request_id=meta.request_id, receipt=receipt
        )
        return Response(receipt.body(), status=202)


class AlertmanagerWebhookView(AlertWebhookView):
    provider = "alertmanager"


class PagerDutyWebhookView(AlertWebhookView):
    provider = "pagerduty"


class IncidentIoWebhookView(AlertWebhookView):
    provider = "incidentio"


class AlertDeliveryPages(ApiPagination):
    items_key = "deliveries"
    default_limit = 50
    max_limit = 100


class AlertDeliveryViewSet(ApiViewSet):
    """The team's inbound alert deliveries, newest first: the answer each got and every alert's fate."""

    # ``integrations/deliveries`` on the router (``alerts.urls``).

    pagination_class = AlertDeliveryPages

    @extend_schema(
        summary="Inbound alert deliveries of the team, newest first, with each alert's fate",
        parameters=[TEAM_HEADER, OpenApiParameter("provider", str, required=False, enum=ProviderChoice.values)],
        responses={200: schemas.AlertDeliveryOut(many=True), **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        provider = parse_query_choice(
            request.query_params.get("provider"), field="provider", choices=ProviderChoice.values
        )
        page = self.paginate_queryset(alert_deliveries_for_team(self.selected_team(), provider=provider))
        return self.get_paginated_response([alert_delivery_body(row) for row in page or []])
