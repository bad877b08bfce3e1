"""Worker heartbeats: written by ``manage.py run_worker`` (database backend) or by RQ itself (RQ backend), read by
readiness and by the reconciliation of task rows whose worker died."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_rq import get_queue
from rq import Worker

from ops.models import WorkerHeartbeat

PRUNE_AFTER = timedelta(days=1)


def process_worker_id() -> str:
    """``<host>:<pid>``: the heartbeat key of this process; its task threads append ``:<n>``."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}"


def max_heartbeat_age() -> timedelta:
    return timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS)


def worker_heartbeat_beat(*, worker_id: str, queue: str, started_at: datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"queue": queue, "started_at": started_at, "beat_at": timezone.now()}
    )


def worker_heartbeat_end(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def worker_heartbeats_prune(*, now: datetime | None = None) -> int:
    return WorkerHeartbeat.objects.filter(beat_at__lt=(now or timezone.now()) - PRUNE_AFTER).delete()[0]


def live_worker_ids(*, now: datetime | None = None) -> set[str]:
    cutoff = (now or timezone.now()) - max_heartbeat_age()
    return set(WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))


def freshest_beat(queue: str) -> datetime | None:
    """When a worker of ``queue`` last showed it was alive (RQ keeps its own worker registry in Redis)."""
    if settings.TASKS_BACKEND_NAME == "rq":
        return _freshest_rq_beat(queue)
    return WorkerHeartbeat.objects.filter(queue=queue).order_by("-beat_at").values_list("beat_at", flat=True).first()


def _freshest_rq_beat(queue: str) -> datetime | None:
    beats = [worker.last_heartbeat for worker in Worker.all(queue=get_queue(queue)) if worker.last_heartbeat]
    if not beats:
        return None
    latest = max(beats)
    return latest if latest.tzinfo else latest.replace(tzinfo=UTC)
