"""Nothing is lost: attempts whose queued task vanished, or whose worker died mid-send, are re-queued by the
maintenance loop (``webhooks_requeue_overdue``) and follow the usual retry schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from webhooks.delivery import OVERDUE_AFTER, WORKER_LOST, webhook_event_queue, webhooks_requeue_overdue
from webhooks.models import MessageState, Outcome, WebhookDelivery, WebhookMessage
from webhooks.schedule import MAX_ATTEMPTS

pytestmark = pytest.mark.django_db

EVENT = {"event": "investigation_complete", "investigation_id": "inv_00000000000000000001"}


def _queued_without_a_task(team) -> WebhookMessage:
    """Stored and committed, but the task that should deliver it never ran (plain ``db`` tests skip on-commit)."""
    message = webhook_event_queue(team=team, event=EVENT)
    assert message is not None
    return message


def test_a_message_whose_first_task_was_lost_is_delivered_after_the_grace_period(
    team, configured, django_capture_on_commit_callbacks
):
    message = _queued_without_a_task(team)
    assert webhooks_requeue_overdue() == 0  # not overdue yet: the task may simply be on its way

    with (
        time_machine.travel(timezone.now() + OVERDUE_AFTER + timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert webhooks_requeue_overdue() == 1

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert len(configured.requests) == 1
    assert configured.last_json()["investigation_id"] == EVENT["investigation_id"]


def test_an_attempt_whose_worker_died_mid_send_is_recorded_and_retried(
    team, configured, django_capture_on_commit_callbacks
):
    message = _queued_without_a_task(team)
    started = timezone.now()
    WebhookDelivery.objects.create(
        message=message, org_id=team.org_id, team=team, attempt=1, attempted_at=started
    )  # inserted as ``sending``, then the worker was killed

    later = started + OVERDUE_AFTER + timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert webhooks_requeue_overdue() == 1
    lost = WebhookDelivery.objects.get(message=message, attempt=1)
    assert lost.outcome == Outcome.RETRYABLE_FAILURE
    assert lost.error == WORKER_LOST
    assert lost.duration_ms is None
    message.refresh_from_db()
    assert message.state == MessageState.PENDING
    assert lost.next_attempt_at is not None
    assert message.queued_for == lost.next_attempt_at  # attempt 2 follows the usual schedule (5 s ± 20 %)

    with (
        time_machine.travel(lost.next_attempt_at + OVERDUE_AFTER + timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert webhooks_requeue_overdue() == 1  # this test's task backend cannot defer, so attempt 2 was lost too
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert list(message.deliveries.order_by("attempt").values_list("attempt", "outcome")) == [
        (1, Outcome.RETRYABLE_FAILURE),
        (2, Outcome.SUCCESS),
    ]


def test_a_last_attempt_whose_worker_died_ends_the_message_as_failed(team, configured):
    message = _queued_without_a_task(team)
    started = timezone.now()
    WebhookDelivery.objects.create(
        message=message, org_id=team.org_id, team=team, attempt=MAX_ATTEMPTS, attempted_at=started
    )
    with time_machine.travel(started + OVERDUE_AFTER + timedelta(seconds=1)):
        assert webhooks_requeue_overdue() == 1
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.queued_for is None
    assert configured.requests == []


def test_an_attempt_still_under_way_is_left_alone(team, configured):
    message = _queued_without_a_task(team)
    WebhookDelivery.objects.create(
        message=message, org_id=team.org_id, team=team, attempt=1, attempted_at=timezone.now() + OVERDUE_AFTER
    )
    with time_machine.travel(timezone.now() + OVERDUE_AFTER + timedelta(seconds=1)):
        assert webhooks_requeue_overdue() == 0
    assert WebhookDelivery.objects.get(message=message).outcome == Outcome.SENDING


def test_delivered_and_failed_messages_are_never_re_sent(team, configured, django_capture_on_commit_callbacks):
    delivered = _queued_without_a_task(team)
    failed = _queued_without_a_task(team)
    WebhookMessage.objects.filter(pk=delivered.pk).update(state=MessageState.DELIVERED)
    WebhookMessage.objects.filter(pk=failed.pk).update(state=MessageState.FAILED)
    with (
        time_machine.travel(timezone.now() + OVERDUE_AFTER * 3),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert webhooks_requeue_overdue() == 0
    assert configured.requests == []
