"""``manage.py sweep_investigations [--loop] [--interval 5]``: end or re-queue runs nobody is working on.

With ``--loop`` it is the maintenance loop that ``make run`` starts beside the worker: it also prunes finished
rate-limit windows of the database store and inbound alert deliveries past their retention, re-queues
webhook attempts whose task was lost, fails task-queue rows a dead worker left running, prunes old worker
heartbeats and forgets the metrics of processes that are gone.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from alerts.services import alert_deliveries_prune
from incidentfox_web.api.ratelimit import prune_database_counters
from investigations.sweeper import investigations_sweep
from ops.heartbeat import worker_heartbeats_prune
from ops.metrics import forget_dead_processes, refresh_process_metrics
from ops.reconcile import task_rows_reconcile
from webhooks.delivery import webhooks_requeue_overdue


class Command(BaseCommand):
    help = "Fail or re-queue investigations whose worker died or whose deadline passed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep sweeping until SIGINT/SIGTERM.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between sweeps with --loop.")

    def handle(self, *args: Any, loop: bool, interval: float, **options: Any) -> None:
        if not loop:
            report = investigations_sweep()
            self.stdout.write(f"swept {report.total} investigation(s)")
            return
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping.is_set():
            close_old_connections()
            try:
                investigations_sweep()
                prune_database_counters()
                alert_deliveries_prune()
                webhooks_requeue_overdue()
                task_rows_reconcile()
                worker_heartbeats_prune()
                forget_dead_processes()
                refresh_process_metrics("maintenance", min_interval=0)
            except Exception as exc:  # a database hiccup must not end the loop
                self.stderr.write(f"sweep failed: {exc.__class__.__name__}")
            stopping.wait(interval)
