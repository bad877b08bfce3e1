"""The task queues. Investigations and webhook deliveries never share one, so a slow receiver delays no run."""

from __future__ import annotations

INVESTIGATIONS_QUEUE = "investigations"
WEBHOOKS_QUEUE = "webhooks"
TASK_QUEUES = (INVESTIGATIONS_QUEUE, WEBHOOKS_QUEUE)
