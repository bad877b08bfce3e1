from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per live worker process (``manage.py run_worker``), renewed every few seconds.

    Readiness reads the freshest beat; the maintenance loop fails task rows whose worker stopped beating.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)  # "<host>:<pid>"
    queue = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.queue})"
