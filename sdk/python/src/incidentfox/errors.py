"""One exception class per API error code (API.md §1.3), all subclasses of ``IncidentFoxError``."""

from __future__ import annotations

from typing import Any


class IncidentFoxError(Exception):
    """An error answer from the API: ``code``, HTTP ``status``, ``request_id`` (quote it in support requests),
    ``details`` and ``field`` when the API named them, and ``retry_after`` (seconds) for 429s."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.details = details
        self.field = field
        self.retry_after = retry_after

    def __str__(self) -> str:
        suffix = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{suffix}"


class InvalidRequestError(IncidentFoxError):
    """400 ``invalid_request``: a malformed body, a missing field, an unknown or disabled agent."""


class MethodNotAllowedError(InvalidRequestError):
    """405 ``method_not_allowed``."""


class UnsupportedMediaTypeError(InvalidRequestError):
    """415 ``unsupported_media_type``."""


class ValidationError(IncidentFoxError):
    """400 ``validation_error``: a field has a bad type, range, enum value or format (``details`` says which)."""


class InvalidFieldError(ValidationError):
    """400 ``invalid_field``: the field is immutable or admin-only (``field`` names it)."""


class AuthenticationError(IncidentFoxError):
    """401 ``unauthorized``: a missing, malformed, unknown or revoked credential."""


class TokenExpiredError(AuthenticationError):
    """401 ``token_expired``."""


class PermissionDeniedError(IncidentFoxError):
    """403 ``forbidden``: authenticated, but not allowed (a read-only token writing, say)."""


class NotFoundError(IncidentFoxError):
    """404 ``not_found``, also for other teams' objects."""


class ConflictError(IncidentFoxError):
    """409 ``conflict``: cancelling a finished investigation, a reused idempotency key, …"""


class PayloadTooLargeError(IncidentFoxError):
    """413 ``payload_too_large``."""


class RateLimitError(IncidentFoxError):
    """429 ``rate_limited`` after the client's retries ran out; ``retry_after`` says when to try again."""


class ServerError(IncidentFoxError):
    """500 ``server_error`` (or any 5xx)."""


class WaitTimeout(Exception):
    """``wait()`` gave up before the investigation finished (it keeps running on the server)."""


ERRORS_BY_CODE: dict[str, type[IncidentFoxError]] = {
    "invalid_request": InvalidRequestError,
    "method_not_allowed": MethodNotAllowedError,
    "unsupported_media_type": UnsupportedMediaTypeError,
    "validation_error": ValidationError,
    "invalid_field": InvalidFieldError,
    "unauthorized": AuthenticationError,
    "token_expired": TokenExpiredError,
    "forbidden": PermissionDeniedError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "payload_too_large": PayloadTooLargeError,
    "rate_limited": RateLimitError,
    "server_error": ServerError,
}
CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_from_response(status: int, body: Any, headers: dict[str, str]) -> IncidentFoxError:
    """The exception for an error answer; a body that is not the documented shape still maps by HTTP status."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or CODES_BY_STATUS.get(status, "server_error"))
    retry_after = error.get("retry_after")
    if retry_after is None and headers.get("retry-after", "").isdigit():
        retry_after = int(headers["retry-after"])
    cls = ERRORS_BY_CODE.get(code) or (ServerError if status >= 500 else IncidentFoxError)
    return cls(
        str(error.get("message") or f"HTTP {status}"),
        code=code,
        status=status,
        request_id=error.get("request_id") or headers.get("x-request-id"),
        details=error.get("details") if isinstance(error.get("details"), dict) else None,
        field=error.get("field"),
        retry_after=retry_after if isinstance(retry_after, int) else None,
    )
