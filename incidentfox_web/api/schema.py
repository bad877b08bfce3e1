"""OpenAPI pieces shared by every view: the error body, a free-form object, the team header and the bearer
credential kinds."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

JSON_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
# Team-scoped endpoints: which team an org-admin token or a user of several teams acts for.
TEAM_HEADER = OpenApiParameter("X-Team-Id", str, OpenApiParameter.HEADER, required=False)

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="Documented error code, e.g. validation_error"),
                "message": serializers.CharField(),
                "request_id": serializers.CharField(),
                "field": serializers.CharField(required=False, help_text="Dotted path of the offending field"),
                "details": serializers.DictField(required=False),
                "retry_after": serializers.IntegerField(required=False, help_text="429 only"),
            },
        )
    },
)

ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    status: OpenApiResponse(ErrorBody, description=description)
    for status, description in {
        400: "invalid_request, validation_error or invalid_field",
        401: "unauthorized or token_expired",
        403: "forbidden",
        404: "not_found (also for other tenants' objects)",
        409: "conflict",
        413: "payload_too_large",
        415: "unsupported_media_type",
        429: "rate_limited",
    }.items()
}


class _BearerScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    priority = 1
    description = ""

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": self.description}


class TeamTokenScheme(_BearerScheme):  # type: ignore[no-untyped-call]
    target_class = "incidentfox_web.api.authentication.TeamTokenAuthentication"
    name = "teamToken"
    description = "Team token `ift_<12>.<40>`: one team's operations."


class AdminTokenScheme(_BearerScheme):  # type: ignore[no-untyped-call]
    target_class = "incidentfox_web.api.authentication.AdminTokenAuthentication"
    name = "adminToken"
    description = "Org-admin token `ifa_<12>.<40>`: everything in one org; pick a team with X-Team-Id."


class OidcJwtScheme(_BearerScheme):  # type: ignore[no-untyped-call]
    target_class = "incidentfox_web.api.authentication.OidcJwtAuthentication"
    name = "oidcJwt"
    description = "An OIDC JWT from the org's identity provider (RS*/PS256/ES256/ES384)."

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": self.description}


class SessionScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "incidentfox_web.api.authentication.BrowserSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class Pagination(serializers.Serializer):  # type: ignore[type-arg]
    total = serializers.IntegerField(help_text="Every match, not only this page")
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


def pagination_serializer() -> serializers.Serializer:  # type: ignore[type-arg]
    return Pagination()
