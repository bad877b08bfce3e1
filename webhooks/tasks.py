"""Thin task wrapper: ids in, one delivery attempt out. Delivery state lives in ``WebhookDelivery`` rows."""

from __future__ import annotations

from django.tasks import task

from ops.queues import WEBHOOKS_QUEUE
from webhooks.delivery import webhook_attempt
from webhooks.slack import slack_sync


@task(queue_name=WEBHOOKS_QUEUE)
def deliver_webhook(webhook_id: str, attempt: int) -> None:
    webhook_attempt(webhook_id=webhook_id, attempt=attempt)


@task(queue_name=WEBHOOKS_QUEUE)  # outbound notification: never on the investigations queue
def sync_slack_message(investigation_id: str) -> None:
    slack_sync(investigation_id=investigation_id)
