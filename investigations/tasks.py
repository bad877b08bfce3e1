"""Thin task wrappers: ids in, a service call out. Investigation state lives on the row, not in the queue."""

from __future__ import annotations

from django.tasks import task

from investigations.runner import investigation_execute
from ops.queues import INVESTIGATIONS_QUEUE


@task(queue_name=INVESTIGATIONS_QUEUE)
def run_investigation(investigation_id: str, attempt: int) -> None:
    investigation_execute(investigation_id=investigation_id, attempt=attempt)
