"""The base view every API endpoint uses, and the few framework-level endpoints (health, unknown routes).

Authentication, permissions and the rate limit are DRF classes (settings ``REST_FRAMEWORK``, per view
``permission_classes``); ``ApiView.initial`` runs them in the documented order: route 405 → 401 → 429 → 403. Body
errors (415 → 413 → 400) follow when the view reads ``request.data``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Never

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from incidentfox_web.api.errors import ApiError, json_error_response
from incidentfox_web.api.formats import parse_query_bool
from incidentfox_web.api.middleware import client_ip
from incidentfox_web.api.parsers import DEFAULT_MAX_BODY_BYTES, check_text
from incidentfox_web.api.permissions import NO_PERMISSION
from incidentfox_web.api.throttling import rate_bucket
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import Node
from tenancy.principal import Principal
from tenancy.selectors import team_for_principal


class ApiView(APIView):
    # The base of every authenticated endpoint (a comment, not a docstring: drf-spectacular would print a base
    # class's docstring as every operation's description). Subclasses set ``permission_classes`` (default
    # ``TeamAccess``) and may set ``rate_bucket`` and ``max_body_bytes``.

    rate_bucket: ClassVar[str | None] = None  # None: "read" for safe methods, "write" otherwise
    max_body_bytes: ClassVar[int] = DEFAULT_MAX_BODY_BYTES

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        """JSON without parsing ``Accept`` for API clients; full negotiation only when a browser asks for HTML."""
        accept = request.META.get("HTTP_ACCEPT", "")
        if "html" not in accept and not force:
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """DRF's ``initial`` with the contract's order: 405 before the credential, and the rate limit (counted by
        client IP when the credential is missing or bad) before both 401 and 403."""
        self.route_checks(request, **kwargs)
        try:
            self.perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise
        self.check_throttles(request)
        self.check_permissions(request)
        self.check_query_params(request)

    def route_checks(self, request: Request, **kwargs: Any) -> None:
        """Renderer, 405 and the ``envelope`` flag: everything decided before the credential is looked at."""
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, **kwargs)
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method or "")
        envelope = request.query_params.get("envelope") if request.META.get("QUERY_STRING") else None
        request.envelope = parse_query_bool(envelope, field="envelope", default=False)  # type: ignore[attr-defined]

    @staticmethod
    def check_query_params(request: Request) -> None:
        """Query parameters are text the database stores or compares: no NUL, no lone surrogates."""
        for name, values in request.query_params.lists():
            for value in values:
                check_text(value, field=name)

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> Never:
        principal = request.user
        if not isinstance(principal, Principal):
            super().permission_denied(request, message=message, code=code)  # 401: no credential
        assert isinstance(principal, Principal)
        self.deny(request, principal, message or NO_PERMISSION)

    def deny(self, request: Request, principal: Principal, message: str) -> Never:
        """Audit the refusal and answer 403."""
        audit_record(
            org=principal.org,
            event_type="auth.denied",
            meta=self.request_meta(request),
            team_id=principal.team.node_id if principal.team else "",
            target=request.path,
            details={"method": request.method, "reason": message},
        )
        raise ApiError.forbidden(message)

    def throttled(self, request: Request, wait: float | None) -> Never:
        message = "Too many investigation requests" if rate_bucket(request, self) == "trigger" else "Too many requests"
        raise ApiError.rate_limited(message, retry_after=max(1, int(wait or 1)))

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        decision = getattr(request, "rate_decision", None)
        if decision is not None:
            for name, value in decision.headers().items():
                response[name] = value
        return response

    # -- helpers for subclasses ------------------------------------------------------------------------------
    @property
    def principal(self) -> Principal:
        user = self.request.user
        assert isinstance(user, Principal)
        return user

    def validated(self, serializer_class: type[Serializer[Any]], data: Any = None) -> dict[str, Any]:
        """The request body (or ``data``) validated by ``serializer_class``: the class drf-spectacular documents
        as the request body. Errors go through the exception handler (``field is required`` / ``validation_error``).
        The serializer's context holds the request and the view, as DRF's generic views give it."""
        serializer = serializer_class(
            data=self.body if data is None else data, context={"request": self.request, "view": self}
        )
        serializer.is_valid(raise_exception=True)
        validated: dict[str, Any] = serializer.validated_data
        return validated

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
        user = request.user
        actor = user.actor if isinstance(user, Principal) else "anonymous"
        return RequestMeta(
            actor=actor,
            request_id=getattr(request, "request_id", ""),
            ip_address=client_ip(request, settings.TRUSTED_PROXY_COUNT),
        )


class ApiViewSet(ViewSetMixin, ApiView, GenericAPIView):  # type: ignore[type-arg]
    """A resource's endpoints as one DRF viewset, through ``ApiView``'s pipeline; registered on an ``ApiRouter``
    where the contract's paths fit one, else bound to its paths explicitly."""


async def health(request: HttpRequest) -> JsonResponse:
    """Liveness: no auth, no rate limit."""
    return JsonResponse({"status": "ok"})


@csrf_exempt  # it changes nothing: an unknown POST gets the JSON 404, not the HTML CSRF failure page
def route_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return json_error_response(request, "not_found", "Not found", 404)
