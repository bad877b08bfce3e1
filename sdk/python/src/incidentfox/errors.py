"""One exception class per API error code (API.md §1.3), all subclasses of ``IncidentFoxError``, plus the errors of
the transport (no answer at all) and of waiting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidentfox.models import Investigation


class IncidentFoxError(Exception):
    """An error from the API or on the way to it: ``code``, HTTP ``status`` (None when no answer arrived),
    ``request_id`` (quote it in support requests), ``details`` and ``field`` when the API named them,
    ``retry_after`` (seconds) for 429s, and the answer's ``headers``."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        field: str | None = None,
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.details = details
        self.field = field
        self.retry_after = retry_after
        self.headers: Mapping[str, str] = dict(headers or {})

    def __str__(self) -> str:
        head = self.code if self.status is None else f"{self.status} {self.code}"
        suffix = f" (request {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{suffix}"


class APIConnectionError(IncidentFoxError):
    """No answer: the connection was refused, reset or could not be made (DNS, TLS). ``status`` is None."""

    def __init__(self, message: str, *, code: str = "connection_error") -> None:
        super().__init__(message, code=code, status=None)


class APITimeoutError(APIConnectionError):
    """No answer within the request's timeout (connect, read, write or pool)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="timeout")


class InvalidResponseError(IncidentFoxError):
    """A success status with a body that is not the JSON the API documents (a proxy's page, say)."""


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
    """500 ``server_error`` (or any 5xx) after the client's retries ran out."""


class WaitTimeout(IncidentFoxError):
    """``wait()`` gave up before the investigation finished (it keeps running on the server); ``investigation`` is
    its last known state."""

    def __init__(self, message: str, investigation: Investigation | None = None) -> None:
        super().__init__(message, code="wait_timeout", status=None)
        self.investigation = investigation


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


def _retry_after_header(headers: Mapping[str, str]) -> int | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    return int(value) if value.isdigit() else None


def _request_id_header(headers: Mapping[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)


def error_from_response(status: int, body: Any, headers: Mapping[str, str]) -> IncidentFoxError:
    """The exception for an error answer; a body that is not the documented shape still maps by HTTP status."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or CODES_BY_STATUS.get(status, "server_error"))
    retry_after = error.get("retry_after")
    if not isinstance(retry_after, int) or isinstance(retry_after, bool):
        retry_after = _retry_after_header(headers)
    cls = ERRORS_BY_CODE.get(code) or (ServerError if status >= 500 else IncidentFoxError)
    details = error.get("details")
    return cls(
        str(error.get("message") or f"HTTP {status}"),
        code=code,
        status=status,
        request_id=error.get("request_id") or _request_id_header(headers),
        details=details if isinstance(details, dict) else None,
        field=error.get("field"),
        retry_after=retry_after,
        headers=headers,
    )
