"""Task rows a dead worker left ``RUNNING`` (database backend): the maintenance loop marks them failed.

The work itself is recovered elsewhere (an investigation by its lease and the sweeper, a webhook attempt by the
overdue re-queue); this only keeps the task table truthful, so queue views and pruning see no run that never ends.
A row is stale when the worker process that claimed it has not beaten for ``WORKER_HEARTBEAT_MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import traceback
from datetime import datetime

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ops.heartbeat import live_worker_ids, max_heartbeat_age
from ops.metrics import TASK_ROWS_RECONCILED

BATCH = 500


class WorkerLost(Exception):
    """The worker process running this task stopped (killed, or its host went away) before the task finished."""


def task_rows_reconcile(*, now: datetime | None = None) -> int:
    """Fail the running task rows whose worker process is gone; returns how many."""
    if settings.TASKS_BACKEND_NAME != "database":
        return 0
    now = now or timezone.now()
    alive = live_worker_ids(now=now)
    running = DBTaskResult.objects.running().filter(started_at__lt=now - max_heartbeat_age())
    stale = [row.pk for row in running.only("id", "worker_ids")[:BATCH] if _process_of(row.worker_ids) not in alive]
    if not stale:
        return 0
    error = WorkerLost("the worker running this task stopped before it finished")
    changed = DBTaskResult.objects.filter(pk__in=stale, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback="".join(traceback.format_exception_only(error)),
        return_value=None,
    )
    TASK_ROWS_RECONCILED.inc(changed)
    return changed


def _process_of(worker_ids: list[str]) -> str:
    """``<host>:<pid>`` of the last claim (``run_worker`` ids are ``<host>:<pid>:<thread>``)."""
    return worker_ids[-1].rsplit(":", 1)[0] if worker_ids else ""
