"""Operator endpoints beside liveness (``/health``): readiness (``/ready``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import hmac

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from incidentfox_web.api.errors import json_error_response
from ops.heartbeat import freshest_beat, max_heartbeat_age
from ops.metrics import CONTENT_TYPE, exposition, refresh_process_metrics
from ops.queue_stats import QueueCollector
from ops.queues import TASK_QUEUES

REDIS_TIMEOUT_SECONDS = 2.0


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """200 when this instance can serve: the database answers, Redis answers (when configured) and every queue has
    a worker that beat within ``WORKER_HEARTBEAT_MAX_AGE_SECONDS``; else 503 naming the checks that failed."""
    checks = {"database": _database()}
    if settings.REDIS_URL:
        checks["redis"] = _redis(settings.REDIS_URL)
    if settings.READY_REQUIRES_WORKERS and settings.TASKS_BACKEND_NAME in ("database", "rq"):
        for queue in TASK_QUEUES:
            checks[f"worker:{queue}"] = _worker(queue) if checks["database"] == "ok" else "database unavailable"
    failed = sorted(name for name, outcome in checks.items() if outcome != "ok")
    body = {"status": "unavailable" if failed else "ready", "checks": checks, "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return "ok"


def _redis(url: str) -> str:
    try:
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=1)
        with client:
            client.ping()
    except Exception as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return "ok"


def _worker(queue: str) -> str:
    try:
        beat = freshest_beat(queue)
    except Exception as exc:
        return f"unknown ({exc.__class__.__name__})"
    if beat is None:
        return "no worker has reported"
    age = (timezone.now() - beat).total_seconds()
    limit = max_heartbeat_age().total_seconds()
    return "ok" if age <= limit else f"last heartbeat {age:.0f} s ago (limit {limit:.0f} s)"


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition of every process on this host plus the queues; needs ``METRICS_TOKEN``."""
    token = settings.METRICS_TOKEN
    if not token:
        return json_error_response(request, "not_found", "Not found", 404)
    supplied = request.META.get("HTTP_AUTHORIZATION", "")
    if not hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
        response = json_error_response(request, "unauthorized", "A valid metrics token is required", 401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    refresh_process_metrics("web", min_interval=0)
    return HttpResponse(exposition([QueueCollector()]), content_type=CONTENT_TYPE)
