"""Queue depth and age, read at scrape time: how many tasks wait on each queue and how long the oldest has waited
since it became runnable. Database backend: the task table; RQ: the Redis queues."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_rq import get_queue
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ops.heartbeat import freshest_beat
from ops.metrics import QUEUE_DEPTH, QUEUE_OLDEST_AGE, WORKER_HEARTBEAT_AGE
from ops.queues import TASK_QUEUES


@dataclass(frozen=True)
class QueueStats:
    queue: str
    depth: int
    oldest_age_seconds: float
    heartbeat_age_seconds: float | None


def queue_stats(*, now: datetime | None = None) -> list[QueueStats]:
    now = now or timezone.now()
    backend = settings.TASKS_BACKEND_NAME
    stats = []
    for queue in TASK_QUEUES:
        if backend == "rq":
            depth, oldest = _rq_queue(queue, now)
        elif backend == "database":
            depth, oldest = _database_queue(queue, now)
        else:
            continue
        beat = freshest_beat(queue)
        stats.append(
            QueueStats(
                queue=queue,
                depth=depth,
                oldest_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                heartbeat_age_seconds=(now - beat).total_seconds() if beat else None,
            )
        )
    return stats


def _database_queue(queue: str, now: datetime) -> tuple[int, datetime | None]:
    never = get_date_max()
    ready = DBTaskResult.objects.ready().filter(queue_name=queue)
    row = ready.aggregate(
        depth=Count("id"),
        oldest_enqueued=Min("enqueued_at", filter=Q(run_after=never)),
        oldest_due=Min("run_after", filter=~Q(run_after=never)),
    )
    due = [value for value in (row["oldest_enqueued"], row["oldest_due"]) if value is not None]
    return int(row["depth"]), min(due) if due else None


def _rq_queue(queue: str, now: datetime) -> tuple[int, datetime | None]:
    rq_queue = get_queue(queue)
    depth = rq_queue.count
    oldest = None
    job_ids = rq_queue.get_job_ids(0, 0)
    if job_ids:
        job = rq_queue.fetch_job(job_ids[0])
        if job is not None and job.enqueued_at is not None:
            oldest = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
    return depth, oldest


class QueueCollector(Collector):
    """Registered on the scrape registry only: each scrape reads the queues once."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(QUEUE_DEPTH, "Tasks waiting to run, by queue.", labels=["queue"])
        age = GaugeMetricFamily(
            QUEUE_OLDEST_AGE,
            "How long the oldest runnable task has waited, by queue (0 when empty).",
            labels=["queue"],
        )
        beat = GaugeMetricFamily(
            WORKER_HEARTBEAT_AGE,
            "Seconds since a worker of the queue last reported alive (absent when none ever did).",
            labels=["queue"],
        )
        for stats in queue_stats():
            depth.add_metric([stats.queue], stats.depth)
            age.add_metric([stats.queue], stats.oldest_age_seconds)
            if stats.heartbeat_age_seconds is not None:
                beat.add_metric([stats.queue], stats.heartbeat_age_seconds)
        yield depth
        yield age
        yield beat
