"""The base view every API endpoint uses, and the few framework-level endpoints (health, unknown routes).

``ApiView.initial`` fixes the documented precedence: route 405 → 401 → 429 → 403; body errors (415 → 413 → 400)
follow when the view reads ``request.data``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, ClassVar, Literal

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidentfox_web.api import ratelimit
from incidentfox_web.api.errors import ApiError, json_error_response
from incidentfox_web.api.formats import parse_query_bool
from incidentfox_web.api.middleware import client_ip
from incidentfox_web.api.parsers import DEFAULT_MAX_BODY_BYTES
from tenancy import credential_cache
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import DEFAULT_RATE_LIMITS, Node
from tenancy.principal import Principal
from tenancy.selectors import team_for_principal

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Scope = Literal["team", "admin", "any"]


class ApiView(APIView):
    """Base for every authenticated endpoint.

    Subclasses set ``scope`` and may set ``rate_bucket`` and ``max_body_bytes``.
    """

    scope: ClassVar[Scope] = "team"
    rate_bucket: ClassVar[str | None] = None  # None: "read" for safe methods, "write" otherwise
    max_body_bytes: ClassVar[int] = DEFAULT_MAX_BODY_BYTES
    permission_classes = [AllowAny]  # permissions are checked in ``initial`` to keep the precedence

    # -- the request pipeline ------------------------------------------------------------------------------
    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        """JSON without parsing ``Accept`` for API clients; full negotiation only when a browser asks for HTML."""
        accept = request.META.get("HTTP_ACCEPT", "")
        if "html" not in accept and not force:
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self._route_checks(request, **kwargs)
        principal = self._authenticate(request)
        bucket = self._bucket(request)
        decision = self._count(request, bucket=bucket, key=principal.rate_key, limit=principal.org.rate_limit(bucket))
        if principal.token_epoch is not None and (
            decision is None or decision.credential_epoch != principal.token_epoch
        ):
            principal = self._authenticate_from_database(request, principal)
            if decision is not None:
                decision = replace(decision, limit=principal.org.rate_limit(bucket))
                request._rate_decision = decision  # type: ignore[attr-defined]
        self._enforce(decision, bucket)
        self._authorize(request, principal)

    def _route_checks(self, request: Request, **kwargs: Any) -> None:
        """Renderer, 405 and the ``envelope`` flag: everything decided before the credential is looked at."""
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        if (
            request.method is None
            or request.method.lower() not in self.http_method_names
            or not hasattr(self, request.method.lower())
        ):
            raise exceptions.MethodNotAllowed(request.method or "")
        envelope = request.query_params.get("envelope") if request.META.get("QUERY_STRING") else None
        request._envelope = parse_query_bool(envelope, field="envelope", default=False)  # type: ignore[attr-defined]

    def _authenticate(self, request: Request) -> Principal:
        try:
            user = request.user
        except exceptions.AuthenticationFailed:
            self._throttle_anonymous(request)
            raise
        if not isinstance(user, Principal):
            self._throttle_anonymous(request)
            raise exceptions.NotAuthenticated()
        return user

    def _authenticate_from_database(self, request: Request, stale: Principal) -> Principal:
        """The cached token's epoch moved (or could not be read): drop it and authenticate against the rows."""
        assert stale.token is not None
        credential_cache.forget(stale.token.token_id)
        # DRF's own pass over the authenticators (a private method: DRF has no public way to authenticate again);
        # it raises 401 if the token no longer passes.
        request._authenticate()  # type: ignore[attr-defined]
        user = request.user
        assert isinstance(user, Principal)
        assert user.token_epoch is None
        return user

    def _bucket(self, request: Request) -> str:
        if self.rate_bucket is not None:
            return self.rate_bucket
        return "read" if request.method in READ_METHODS else "write"

    def _throttle_anonymous(self, request: Request) -> None:
        ip = client_ip(request._request, settings.TRUSTED_PROXY_COUNT)
        bucket = self._bucket(request)
        limit = DEFAULT_RATE_LIMITS.get(bucket, 100)
        self._enforce(self._count(request, bucket=bucket, key=f"ip:{ip}", limit=limit), bucket)

    def _count(self, request: Request, *, bucket: str, key: str, limit: int) -> ratelimit.RateDecision | None:
        """Count the request in ``bucket:key``; the decision also feeds the response's ``X-RateLimit-*`` headers."""
        decision = ratelimit.hit(bucket=bucket, key=key, limit=limit)
        request._rate_decision = decision  # type: ignore[attr-defined]
        return decision

    def _enforce(self, decision: ratelimit.RateDecision | None, bucket: str) -> None:
        if decision is None or decision.allowed:
            return
        retry_after = decision.retry_after(time.time())
        message = "Too many investigation requests" if bucket == "trigger" else "Too many requests"
        error = ApiError("rate_limited", message, 429, headers={"Retry-After": str(retry_after)})
        error.retry_after = retry_after  # type: ignore[attr-defined]
        raise error

    def _authorize(self, request: Request, principal: Principal) -> None:
        write = request.method not in READ_METHODS
        if self.scope == "any":
            return
        if self.scope == "admin":
            needed = "admin:write" if write else "admin:read"
            if needed not in principal.permissions:
                self._deny(request, principal, "Token does not have permission for this operation")
            return
        if not principal.can("team:read"):
            self._deny(request, principal, "Token does not have permission for this operation")
        if write and not principal.can("team:write"):
            self._deny(request, principal, "Token does not have write permissions")

    def _deny(self, request: Request, principal: Principal, message: str) -> None:
        audit_record(
            org=principal.org,
            event_type="auth.denied",
            meta=self.request_meta(request),
            team_id=principal.team.node_id if principal.team else "",
            target=request.path,
            details={"method": request.method, "reason": message},
        )
        raise ApiError.forbidden(message)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        decision = getattr(request, "_rate_decision", None)
        if decision is not None:
            for name, value in decision.headers().items():
                response[name] = value
        return response

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None and isinstance(response.data, dict):
            response.data["error"]["retry_after"] = retry_after
        return response

    # -- helpers for subclasses ------------------------------------------------------------------------------
    @property
    def principal(self) -> Principal:
        user = self.request.user
        assert isinstance(user, Principal)
        return user

    @property
    def body(self) -> dict[str, Any]:
        """The parsed JSON body; the parser guarantees an object (``{}`` when empty)."""
        data = self.request.data
        assert isinstance(data, dict)
        return data

    def selected_team(self) -> Node:
        return team_for_principal(self.principal, self.request.META.get("HTTP_X_TEAM_ID"))

    def request_meta(self, request: Request | None = None) -> RequestMeta:
        request = request or self.request
        user = request.user if hasattr(request, "_user") else None
        actor = user.actor if isinstance(user, Principal) else "anonymous"
        return RequestMeta(
            actor=actor,
            request_id=getattr(request, "request_id", ""),
            ip_address=client_ip(request._request, settings.TRUSTED_PROXY_COUNT),
        )


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: no auth, no rate limit."""
    return JsonResponse({"status": "ok"})


@csrf_exempt  # it changes nothing: an unknown POST gets the JSON 404, not the HTML CSRF failure page
def route_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return json_error_response(request, "not_found", "Not found", 404)
