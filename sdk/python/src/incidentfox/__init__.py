"""IncidentFox's Python SDK: ``from incidentfox import IncidentFoxClient``."""

from incidentfox.client import DEFAULT_BASE_URL, IncidentFoxClient, __version__
from incidentfox.errors import (
    AuthenticationError,
    ConflictError,
    IncidentFoxError,
    InvalidFieldError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TokenExpiredError,
    UnsupportedMediaTypeError,
    ValidationError,
    WaitTimeout,
)
from incidentfox.models import ConfigChange, Investigation, InvestigationPage, Record
from incidentfox.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "DEFAULT_BASE_URL",
    "AuthenticationError",
    "ConfigChange",
    "ConflictError",
    "IncidentFoxClient",
    "IncidentFoxError",
    "InvalidFieldError",
    "InvalidRequestError",
    "Investigation",
    "InvestigationPage",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "Record",
    "ServerError",
    "TokenExpiredError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "WaitTimeout",
    "WebhookVerificationError",
    "__version__",
    "verify_webhook",
]
