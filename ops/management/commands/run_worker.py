"""``manage.py run_worker --queue investigations|webhooks [--concurrency N]``: one worker process for one queue.

Database backend: ``N`` threads, each a django-tasks-db worker loop claiming one task at a time, so one process
runs up to ``N`` tasks at once; the main thread writes this process's heartbeat and its process metrics, and
exits non-zero if a task thread dies (the supervisor, ``scripts/serve.sh`` or the orchestrator, restarts it).
SIGTERM/SIGINT stop claiming and wait up to ``--grace`` seconds for running tasks; a run cut short later is
resumed elsewhere through its lease.

RQ backend: RQ's worker pool with ``N`` forked workers on the queue (RQ keeps its own heartbeats).

``--metrics-port`` serves this host's metrics (multiprocess mode) on a port of its own, for orchestrators that
scrape each pod: a worker pod has no web server.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from prometheus_client import start_http_server

from ops.heartbeat import process_worker_id, worker_heartbeat_beat, worker_heartbeat_end
from ops.metrics import process_registry, refresh_process_metrics
from ops.queues import INVESTIGATIONS_QUEUE, TASK_QUEUES

logger = logging.getLogger("incidentfox.worker")


class Command(BaseCommand):
    help = "Run a worker for one task queue (investigations or webhooks) with several tasks at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", required=True, choices=TASK_QUEUES)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Tasks at once: threads (database backend) or forked workers (RQ). Default: the queue's setting.",
        )
        parser.add_argument("--interval", type=float, default=0.2, help="Seconds between polls of an idle thread.")
        parser.add_argument("--grace", type=float, default=20.0, help="Seconds to let running tasks finish on stop.")
        parser.add_argument("--metrics-port", type=int, default=settings.WORKER_METRICS_PORT or None)

    def handle(
        self, *args: Any, queue: str, concurrency: int | None, interval: float, grace: float, **options: Any
    ) -> None:
        if concurrency is None:
            concurrency = (
                settings.INVESTIGATION_WORKER_CONCURRENCY
                if queue == INVESTIGATIONS_QUEUE
                else settings.WEBHOOK_WORKER_CONCURRENCY
            )
        if concurrency < 1:
            raise CommandError("--concurrency must be at least 1.")
        if options["metrics_port"]:
            start_http_server(options["metrics_port"], registry=process_registry())
        backend = settings.TASKS_BACKEND_NAME
        if backend == "rq":
            call_command("rqworker-pool", queue, num_workers=concurrency, job_class="django_tasks_rq.Job")
            return
        if backend != "database":
            raise CommandError(f"TASKS_BACKEND={backend} runs tasks in the web process; there is no worker to run.")
        raise SystemExit(_ThreadedWorker(queue=queue, concurrency=concurrency, interval=interval).run(grace=grace))


class _ThreadedWorker:
    def __init__(self, *, queue: str, concurrency: int, interval: float) -> None:
        self.queue = queue
        self.worker_id = process_worker_id()
        self.started_at = timezone.now()
        self.stopping = threading.Event()
        self.loops = [
            Worker(
                queue_names=[queue],
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"{self.worker_id}:{n}",
                excluded_queue_names=[],
            )
            for n in range(concurrency)
        ]
        self.threads = [
            threading.Thread(target=self._loop, args=(loop,), name=f"{queue}-{n}", daemon=True)
            for n, loop in enumerate(self.loops)
        ]

    def run(self, *, grace: float) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self._beat()
        for thread in self.threads:
            thread.start()
        logger.info("Worker %s serving queue %s with %d threads", self.worker_id, self.queue, len(self.threads))
        status = 0
        while not self.stopping.wait(settings.WORKER_HEARTBEAT_SECONDS):
            if not all(thread.is_alive() for thread in self.threads):
                logger.error(
                    "A task thread of worker %s stopped; exiting so the supervisor restarts it", self.worker_id
                )
                status = 1
                break
            self._beat()
        for loop in self.loops:
            loop.running = False
        for thread in self.threads:
            thread.join(timeout=grace)
        self._end()
        return status

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    @staticmethod
    def _loop(loop: Worker) -> None:
        try:
            loop.run()
        except Exception:
            logger.exception("Task thread failed")
        finally:
            connection.close()

    def _beat(self) -> None:
        close_old_connections()
        try:
            worker_heartbeat_beat(worker_id=self.worker_id, queue=self.queue, started_at=self.started_at)
        except Exception as exc:  # the database is away: keep running tasks; readiness shows the missing beat
            logger.warning("Worker heartbeat failed (%s)", exc.__class__.__name__)
        refresh_process_metrics(f"worker-{self.queue}", min_interval=0)

    def _end(self) -> None:
        try:
            worker_heartbeat_end(worker_id=self.worker_id)
        except Exception as exc:
            logger.warning("Could not remove the worker heartbeat (%s)", exc.__class__.__name__)
