"""The one error body (API.md §1.3) and the DRF exception handler that produces it."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

logger = logging.getLogger("incidentfox.api")

WWW_AUTHENTICATE = 'Bearer realm="incidentfox"'


class ApiError(exceptions.APIException):
    """An error with a documented ``code``; raise it anywhere below a view."""

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int,
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = http_status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.extra_headers = headers or {}
        self.retry_after = retry_after

    @classmethod
    def invalid_request(
        cls, message: str, *, field: str | None = None, details: dict[str, Any] | None = None
    ) -> ApiError:
        return cls("invalid_request", message, 400, field=field, details=details)

    @classmethod
    def validation(cls, field: str, error: str, *, message: str | None = None) -> ApiError:
        return cls(
            "validation_error",
            message or f"Invalid value for {field}: {error}",
            400,
            field=field,
            details={"field": field, "error": error},
        )

    @classmethod
    def invalid_field(cls, field: str, message: str) -> ApiError:
        return cls("invalid_field", message, 400, field=field)

    @classmethod
    def forbidden(cls, message: str = "Token does not have permission for this operation") -> ApiError:
        return cls("forbidden", message, 403)

    @classmethod
    def not_found(cls, message: str = "Not found") -> ApiError:
        return cls("not_found", message, 404)

    @classmethod
    def conflict(cls, message: str, *, details: dict[str, Any] | None = None) -> ApiError:
        return cls("conflict", message, 409, details=details)

    @classmethod
    def rate_limited(cls, message: str, *, retry_after: int) -> ApiError:
        return cls("rate_limited", message, 429, headers={"Retry-After": str(retry_after)}, retry_after=retry_after)

    @classmethod
    def too_large(cls, message: str, *, field: str | None = None) -> ApiError:
        return cls("payload_too_large", message, 413, field=field)


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = "Token has expired"
    default_code = "token_expired"


class InvalidCredential(exceptions.AuthenticationFailed):
    default_detail = "Invalid or expired token"
    default_code = "unauthorized"


def error_body(
    code: str,
    message: str,
    request_id: str,
    *,
    field: str | None = None,
    details: dict[str, Any] | None = None,
    retry_after: int | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if field is not None:
        error["field"] = field
    if details is not None:
        error["details"] = details
    if retry_after is not None:
        error["retry_after"] = retry_after
    return {"error": error}


def _request_id(request: HttpRequest | None) -> str:
    return getattr(request, "request_id", "") if request is not None else ""


def _first_serializer_error(detail: Any, prefix: str = "") -> tuple[str, str, str]:
    """Walk DRF's nested error detail to the first ``(dotted field, message, code)``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a list serializer's errors, keyed by the item's index
                return _first_serializer_error(value, f"{prefix}[{key}]")
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            return _first_serializer_error(value, path)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                if value:  # a list serializer reports a valid item as {}
                    return _first_serializer_error(value, f"{prefix}[{index}]")
                continue
            return _first_serializer_error(value, prefix)
    code = getattr(detail, "code", "invalid")
    return prefix, str(detail), str(code)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    request_id = _request_id(request)
    headers: dict[str, str] = {}
    body: dict[str, Any]

    if isinstance(exc, Http404):
        exc = ApiError.not_found()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = ApiError.forbidden()

    if isinstance(exc, ApiError):
        body = error_body(
            exc.code, exc.message, request_id, field=exc.field, details=exc.details, retry_after=exc.retry_after
        )
        headers.update(exc.extra_headers)
        status_code = exc.status_code
    elif isinstance(exc, exceptions.NotAuthenticated):
        body = error_body("unauthorized", "Authentication required", request_id)
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        status_code = 401
    elif isinstance(exc, exceptions.AuthenticationFailed):
        code = "token_expired" if isinstance(exc, TokenExpired) else "unauthorized"
        message = "Token has expired" if code == "token_expired" else "Invalid or expired token"
        body = error_body(code, message, request_id)
        headers["WWW-Authenticate"] = f'{WWW_AUTHENTICATE}, error="invalid_token"'
        status_code = 401
    elif isinstance(exc, exceptions.PermissionDenied):
        body = error_body("forbidden", str(exc.detail), request_id)
        status_code = 403
    elif isinstance(exc, exceptions.Throttled):  # the framework's own views (schema, docs); ApiView raises ApiError
        retry_after = max(1, math.ceil(getattr(exc, "wait", None) or 1))  # set by DRF; not in the stubs
        body = error_body("rate_limited", "Too many requests", request_id, retry_after=retry_after)
        headers["Retry-After"] = str(retry_after)
        status_code = 429
    elif isinstance(exc, exceptions.MethodNotAllowed):
        body = error_body("method_not_allowed", str(exc.detail), request_id)
        status_code = 405
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        body = error_body(
            "unsupported_media_type", "Request body must be JSON (Content-Type: application/json)", request_id
        )
        status_code = 415
    elif isinstance(exc, exceptions.ParseError):
        body = error_body("invalid_request", str(exc.detail), request_id)
        status_code = 400
    elif isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_serializer_error(exc.detail)
        if code in ("required", "blank", "null"):
            body = error_body("invalid_request", f"{field} is required", request_id, field=field or None)
        else:
            body = error_body(
                "validation_error",
                f"Invalid value for {field}: {message}" if field else message,
                request_id,
                field=field or None,
                details={"field": field, "error": message},
            )
        status_code = 400
    elif isinstance(exc, exceptions.NotFound):
        body = error_body("not_found", "Not found", request_id)
        status_code = 404
    elif isinstance(exc, exceptions.NotAcceptable):
        body = error_body("invalid_request", "Responses are JSON; the Accept header asks for another type", request_id)
        status_code = 406
    else:
        logger.exception("Unhandled error in API view")
        body = error_body("server_error", "Internal server error", request_id)
        status_code = 500

    if status_code == 401 and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    response = Response(body, status=status_code, headers=headers)
    if request is not None:
        request.api_error = True  # the renderer never wraps an error in the envelope
    return response


def json_error_response(request: HttpRequest, code: str, message: str, http_status: int) -> JsonResponse:
    """Errors raised outside DRF views (unknown routes, middleware) in the same body."""
    return JsonResponse(error_body(code, message, _request_id(request)), status=http_status)
