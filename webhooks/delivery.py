"""Delivering events: queue one message per event, one logged attempt at a time, retries, auto-disable, test sends.

Each attempt row is inserted as ``sending`` before the call (a duplicate task run for the same attempt fails
that insert and stops), then updated with its outcome. An event that finally fails counts towards the
endpoint's consecutive failures; at five the endpoint is disabled and later events are logged as ``skipped``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from incidentfox_web.api.formats import iso_z
from incidentfox_web.egress import EgressResult, post_json
from ops.metrics import WEBHOOK_DELIVERIES
from teamconfig.selectors import effective_config_for_team
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import Node
from webhooks.models import MessageState, Outcome, WebhookDelivery, WebhookEndpoint, WebhookMessage, new_message_id
from webhooks.schedule import retry_delay_seconds
from webhooks.signing import active_secrets, signed_headers, webhook_endpoint_for_team

logger = logging.getLogger("incidentfox.webhooks")

DISABLE_AFTER_FAILED_EVENTS = 5
EVENT_INVESTIGATION_COMPLETE = "investigation_complete"
EVENT_TEST = "webhook.test"


def configured_url(team: Node) -> str | None:
    """The effective ``webhooks.investigation_complete``; ``""`` and null mean off."""
    webhooks = effective_config_for_team(team).get("webhooks") or {}
    url = webhooks.get("investigation_complete") if isinstance(webhooks, dict) else None
    return url if isinstance(url, str) and url else None


def _encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


# -- enabling and disabling ------------------------------------------------------------------------------------
def webhook_endpoint_enable(*, team: Node) -> None:
    """Re-enable after the URL was saved again or a test succeeded; the failure count starts over."""
    endpoint = webhook_endpoint_for_team(team)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0, disabled_at=None, disabled_reason="")


def webhook_endpoints_enable_below(*, node: Node) -> int:
    """Saving ``webhooks.*`` on a node re-enables the disabled endpoints of every team at or below it."""
    disabled = WebhookEndpoint.objects.filter(org_id=node.org_id, disabled_at__isnull=False).select_related("team")
    below = [endpoint.pk for endpoint in disabled if node.node_id in endpoint.team.path]
    return WebhookEndpoint.objects.filter(pk__in=below).update(
        consecutive_failures=0, disabled_at=None, disabled_reason=""
    )


def endpoint_is_disabled(team: Node) -> bool:
    return webhook_endpoint_for_team(team).disabled_at is not None


def _count_final_failure(message: WebhookMessage) -> None:
    endpoint = webhook_endpoint_for_team(message.team)
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        disabled = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, disabled_at__isnull=True, consecutive_failures__gte=DISABLE_AFTER_FAILED_EVENTS
        ).update(
            disabled_at=timezone.now(),
            disabled_reason=f"{DISABLE_AFTER_FAILED_EVENTS} consecutive events failed",
        )
        if disabled:
            audit_record(
                org=message.team.org,
                event_type="webhook.endpoint_disabled",
                meta=RequestMeta.system(),
                team_id=message.team.node_id,
                target="webhooks",
                details={"consecutive_failures": DISABLE_AFTER_FAILED_EVENTS, "last_webhook_id": message.webhook_id},
            )
            logger.warning("webhook endpoint of %s disabled after repeated failures", message.team.node_id)


# -- events ------------------------------------------------------------------------------------------------------
def webhook_event_queue(*, team: Node, event: dict[str, Any]) -> WebhookMessage | None:
    """Store the event for the team's configured URL and queue attempt 1 after commit; None when no URL."""
    url = configured_url(team)
    if url is None:
        return None
    disabled = endpoint_is_disabled(team)
    now = timezone.now()
    with transaction.atomic():
        message = WebhookMessage.objects.create(
            org_id=team.org_id,
            team=team,
            event=str(event.get("event", EVENT_INVESTIGATION_COMPLETE)),
            investigation_id=str(event.get("investigation_id") or ""),
            url=url,
            body=_encode(event),
            state=MessageState.SKIPPED if disabled else MessageState.PENDING,
            queued_for=None if disabled else now,
        )
        if disabled:
            WebhookDelivery.objects.create(
                message=message,
                org_id=team.org_id,
                team=team,
                attempt=1,
                attempted_at=now,
                outcome=Outcome.SKIPPED,
                error="endpoint_disabled",
            )
        else:
            transaction.on_commit(lambda: schedule_attempt(message.webhook_id, 1, at=None))
    return message


def schedule_attempt(webhook_id: str, attempt: int, *, at: datetime | None) -> None:
    from webhooks.tasks import deliver_webhook

    if at is None:
        deliver_webhook.enqueue(webhook_id, attempt)
    elif deliver_webhook.get_backend().supports_defer:
        deliver_webhook.using(run_after=at).enqueue(webhook_id, attempt)
    else:
        logger.warning("task backend cannot defer; webhook %s attempt %s was not scheduled", webhook_id, attempt)


def _start_attempt(message: WebhookMessage, attempt: int, now: datetime) -> WebhookDelivery | None:
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(
                message=message, org_id=message.org_id, team_id=message.team_id, attempt=attempt, attempted_at=now
            )
    except IntegrityError:
        return None


WORKER_LOST = "worker_lost: the attempt never finished"


def _record(delivery: WebhookDelivery, result: EgressResult | None, outcome: Outcome, next_at: datetime | None) -> None:
    """Write an attempt's outcome; ``result`` None means its worker died before it finished."""
    delivery.outcome = outcome
    delivery.response_status = result.status if result else None
    delivery.error = result.error[:300] if result else WORKER_LOST
    delivery.duration_ms = result.duration_ms if result else None
    delivery.next_attempt_at = next_at
    delivery.save(update_fields=["outcome", "response_status", "error", "duration_ms", "next_attempt_at"])
    WEBHOOK_DELIVERIES.labels(outcome=str(outcome)).inc()


def _send(message: WebhookMessage, delivery: WebhookDelivery) -> EgressResult:
    endpoint = webhook_endpoint_for_team(message.team)
    headers = signed_headers(
        signing_secrets=active_secrets(endpoint, delivery.attempted_at),
        webhook_id=message.webhook_id,
        body=message.body,
        now=delivery.attempted_at,
    )
    return post_json(message.url, message.body.encode("utf-8"), headers)


def webhook_attempt(*, webhook_id: str, attempt: int) -> WebhookDelivery | None:
    """Make attempt ``attempt`` of a pending message; None when it is not due (finished or a duplicate run)."""
    message = WebhookMessage.objects.select_related("team", "team__org").filter(webhook_id=webhook_id).first()
    if message is None or message.state != MessageState.PENDING:
        return None
    delivery = _start_attempt(message, attempt, timezone.now())
    if delivery is None:
        return None
    result = _send(message, delivery)
    if result.success:
        _record(delivery, result, Outcome.SUCCESS, None)
        WebhookMessage.objects.filter(pk=message.pk).update(state=MessageState.DELIVERED, queued_for=None)
        WebhookEndpoint.objects.filter(team_id=message.team_id).update(consecutive_failures=0)
        return delivery
    delay = retry_delay_seconds(attempt, retry_after=result.retry_after_seconds) if result.retryable else None
    _record_failure(message, delivery, result, retryable=result.retryable, delay=delay)
    return delivery


def _record_failure(
    message: WebhookMessage,
    delivery: WebhookDelivery,
    result: EgressResult | None,
    *,
    retryable: bool,
    delay: float | None,
) -> None:
    """A failed attempt: queue the next one after ``delay`` seconds, or end the message as failed (delay None)."""
    if delay is not None:
        next_at = timezone.now() + timedelta(seconds=delay)
        next_attempt = delivery.attempt + 1
        with transaction.atomic():
            _record(delivery, result, Outcome.RETRYABLE_FAILURE, next_at)
            WebhookMessage.objects.filter(pk=message.pk).update(queued_for=next_at)
            transaction.on_commit(lambda: schedule_attempt(message.webhook_id, next_attempt, at=next_at))
        return
    _record(delivery, result, Outcome.RETRYABLE_FAILURE if retryable else Outcome.PERMANENT_FAILURE, None)
    WebhookMessage.objects.filter(pk=message.pk).update(state=MessageState.FAILED, queued_for=None)
    _count_final_failure(message)


# -- recovery ---------------------------------------------------------------------------------------------------
OVERDUE_AFTER = timedelta(minutes=10)  # far beyond queue pickup (~0.1 s) and an attempt (≤ egress timeouts)
RECOVERY_BATCH = 200


def webhooks_requeue_overdue(*, now: datetime | None = None) -> int:
    """Re-queue pending messages whose next attempt should have started long ago; returns how many.

    That happens when the queued task was lost or pruned, or the process died between commit and enqueue (the
    message's ``queued_for`` passed), or a worker died mid-attempt (its delivery row is still ``sending``: it is
    recorded as a retryable failure and the next attempt follows the usual schedule). A duplicate of a task that
    was merely late is harmless: a second run of the same attempt fails to claim it.
    """
    now = now or timezone.now()
    cutoff = now - OVERDUE_AFTER
    overdue = (
        WebhookMessage.objects.filter(state=MessageState.PENDING, queued_for__lt=cutoff)
        .select_related("team", "team__org")
        .order_by("queued_for")[:RECOVERY_BATCH]
    )
    requeued = 0
    for message in overdue:
        latest = message.deliveries.order_by("-attempt").first()
        if latest is not None and latest.outcome == Outcome.SENDING:
            if latest.attempted_at >= cutoff:
                continue  # an attempt is under way
            _record_failure(message, latest, None, retryable=True, delay=retry_delay_seconds(latest.attempt))
            requeued += 1
            continue
        attempt = 1 if latest is None else latest.attempt + 1
        with transaction.atomic():
            WebhookMessage.objects.filter(pk=message.pk).update(queued_for=now)
            transaction.on_commit(partial(schedule_attempt, message.webhook_id, attempt, at=None))
        requeued += 1
    if requeued:
        logger.warning("re-queued %d overdue webhook attempt(s)", requeued)
    return requeued


# -- test sends -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestSend:
    delivery: WebhookDelivery
    webhook_id: str
    url: str
    success: bool


def webhook_test_send(*, team: Node, url: str) -> TestSend:
    """One signed ``webhook.test`` event, now, with no retries; a success re-enables the endpoint."""
    now = timezone.now()
    payload = {"event": EVENT_TEST, "team_id": team.node_id, "sent_at": iso_z(now)}
    message = WebhookMessage.objects.create(
        webhook_id=new_message_id(), org_id=team.org_id, team=team, event=EVENT_TEST, url=url, body=_encode(payload)
    )
    delivery = _start_attempt(message, 1, now)
    assert delivery is not None
    result = _send(message, delivery)
    # A test is never retried, so a failed one is final whatever the target answered.
    outcome = Outcome.SUCCESS if result.success else Outcome.PERMANENT_FAILURE
    _record(delivery, result, outcome, None)
    message.state = MessageState.DELIVERED if result.success else MessageState.FAILED
    message.save(update_fields=["state"])
    if result.success:
        webhook_endpoint_enable(team=team)
    return TestSend(delivery=delivery, webhook_id=message.webhook_id, url=url, success=result.success)
