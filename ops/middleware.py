"""The access log: one line per request on ``incidentfox.access`` with method, path, status and duration, written
inside the request id's context (so text and JSON lines carry it), and the HTTP request metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from ops.metrics import HTTP_DURATION, HTTP_REQUESTS, refresh_process_metrics

logger = logging.getLogger("incidentfox.access")
# Label values are bounded: any other method a client sends is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class AccessLogMiddleware:
    """Sits right after ``RequestIdMiddleware``; works in both modes, so under ASGI it adds no thread hop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response: HttpResponseBase = self.get_response(request)
        _record(request, response, started)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response: HttpResponseBase = await self.get_response(request)
        _record(request, response, started)
        return response


def _record(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    elapsed = time.perf_counter() - started
    method = request.method or "-"
    HTTP_REQUESTS.labels(method=method if method in METHODS else "other", status=str(response.status_code)).inc()
    HTTP_DURATION.observe(elapsed)
    refresh_process_metrics("web")
    logger.info(
        '%s "%s %s" %d %.1fms',
        request.META.get("REMOTE_ADDR", "-"),
        method,
        request.path,  # never the query string: it can carry tokens
        response.status_code,
        elapsed * 1000,
        extra={
            "http_method": method,
            "http_path": request.path,
            "http_status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1),
        },
    )


OPERATOR_PATHS = frozenset({"/health", "/ready", "/metrics"})


class OperatorEndpointHost:
    """Probes and scrapers address a pod by its IP, a Host that ``ALLOWED_HOSTS`` rightly refuses. For the
    operator endpoints alone (which build no URL from the Host header) the Host is replaced by the first allowed
    host, so liveness, readiness and metrics answer whatever address they are reached at. First in MIDDLEWARE."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        allowed = [host for host in settings.ALLOWED_HOSTS if host and "*" not in host]
        self.host = allowed[0].lstrip(".") if allowed else "localhost"

    def __call__(self, request: HttpRequest) -> Any:
        if request.path in OPERATOR_PATHS:
            request.META["HTTP_HOST"] = self.host
        return self.get_response(request)
