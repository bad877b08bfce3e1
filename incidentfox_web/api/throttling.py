"""The API's rate limit as a DRF throttle (API.md §3): one shared count per bucket, credential and minute.

Every request is counted once: by its principal's ``rate_key`` against the org's limit when authenticated, else by
client IP against the default limit (so a stream of bad credentials is limited too). The decision is kept on the
request for the ``X-RateLimit-*`` headers (``ApiView.finalize_response``).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from incidentfox_web.api import ratelimit
from incidentfox_web.api.middleware import client_ip
from ops.metrics import RATE_LIMITED
from tenancy.models import DEFAULT_RATE_LIMITS
from tenancy.principal import Principal

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def rate_bucket(request: Request, view: Any) -> str:
    """The view's own bucket (``trigger``, ``integration``), else ``read`` for safe methods and ``write``."""
    bucket: str | None = getattr(view, "rate_bucket", None)
    if bucket is not None:
        return bucket
    return "read" if request.method in READ_METHODS else "write"


def rate_subject(request: Request, view: Any) -> tuple[str, int]:
    """The key a request is counted under and the limit for it."""
    bucket = rate_bucket(request, view)
    user = request.user
    if isinstance(user, Principal):
        return user.rate_key, user.org.rate_limit(bucket)
    return f"ip:{client_ip(request, settings.TRUSTED_PROXY_COUNT)}", DEFAULT_RATE_LIMITS.get(bucket, 100)


class SharedRateThrottle(BaseThrottle):
    decision: ratelimit.RateDecision | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        key, limit = rate_subject(request, view)
        return self.count(request, bucket=rate_bucket(request, view), key=key, limit=limit)

    def count(self, request: Request, *, bucket: str, key: str, limit: int) -> bool:
        self.decision = ratelimit.hit(bucket=bucket, key=key, limit=limit)
        request.rate_decision = self.decision  # type: ignore[attr-defined]
        allowed = self.decision is None or self.decision.allowed
        if not allowed:
            RATE_LIMITED.labels(bucket=bucket).inc()
        return allowed

    def wait(self) -> float | None:
        return None if self.decision is None else self.decision.retry_after(time.time())
