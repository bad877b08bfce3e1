"""Retries, backoff with jitter, Retry-After, permanent failures and auto-disable (API.md §6.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.tasks import default_task_backend
from django.utils import timezone

from ops.queues import TASK_QUEUES
from teamconfig.services import config_update
from tenancy.models import AuditEvent
from tests.conftest import SYSTEM
from tests.webhooks.conftest import Reply, set_webhook_url
from webhooks import schedule
from webhooks.delivery import webhook_attempt, webhook_event_queue, webhook_test_send
from webhooks.models import MessageState, Outcome, WebhookDelivery, WebhookEndpoint, WebhookMessage

pytestmark = pytest.mark.django_db

EVENT = {"event": "investigation_complete", "investigation_id": "inv_AAAAAAAAAAAAAAAAAAAA"}


@pytest.fixture
def deferred_tasks(settings):
    """A backend that records enqueued tasks (with run_after) instead of running them."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": TASK_QUEUES}}
    return default_task_backend


def queued(backend) -> list[tuple[list, object]]:
    return [(result.args, result.task.run_after) for result in backend.results]


def queue_event(team, capture) -> WebhookMessage:
    with capture(execute=True):
        message = webhook_event_queue(team=team, event=EVENT)
    assert message is not None
    return message


def test_first_attempt_is_queued_at_once_after_commit(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    message = queue_event(team, django_capture_on_commit_callbacks)
    assert queued(deferred_tasks) == [([message.webhook_id, 1], None)]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_429_are_retried_after_five_seconds_with_jitter(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks, status
):
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(status))
    now = timezone.now()
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    assert delivery.outcome == Outcome.RETRYABLE_FAILURE
    assert delivery.error == f"HTTP {status}"
    assert delivery.next_attempt_at is not None
    assert now + timedelta(seconds=4) <= delivery.next_attempt_at <= now + timedelta(seconds=6)
    assert queued(deferred_tasks)[-1] == ([message.webhook_id, 2], delivery.next_attempt_at)


def test_the_schedule_is_5s_1m_5m_30m_2h_6h_then_final(monkeypatch):
    monkeypatch.setattr(schedule.random, "uniform", lambda low, high: 1.0)
    assert [schedule.retry_delay_seconds(n) for n in range(1, 8)] == [5, 60, 300, 1800, 7200, 21600, None]


def test_jitter_stays_within_twenty_percent():
    delays = [schedule.retry_delay_seconds(3) or 0.0 for _ in range(300)]
    assert all(240 <= d <= 360 for d in delays)
    assert max(delays) - min(delays) > 30  # it really varies


def test_a_longer_retry_after_is_honoured_up_to_six_hours():
    assert schedule.retry_delay_seconds(1, retry_after=120) == 120
    assert schedule.retry_delay_seconds(1, retry_after=10 * 3600) == 6 * 3600
    assert (schedule.retry_delay_seconds(2, retry_after=1) or 0) <= 72  # shorter than the schedule: schedule wins


def test_retry_after_from_the_target_delays_the_next_attempt(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(429, headers={"Retry-After": "600"}))
    now = timezone.now()
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    assert delivery.next_attempt_at == now + timedelta(seconds=600)


def test_seven_attempts_then_the_event_finally_fails(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(503))
    for attempt in range(1, 8):
        with django_capture_on_commit_callbacks(execute=True):
            webhook_attempt(webhook_id=message.webhook_id, attempt=attempt)
    rows = list(WebhookDelivery.objects.order_by("attempt").values_list("attempt", "outcome", "next_attempt_at"))
    assert [r[0] for r in rows] == list(range(1, 8))
    assert all(r[1] == Outcome.RETRYABLE_FAILURE for r in rows)
    assert rows[-1][2] is None
    assert all(r[2] is not None for r in rows[:-1])
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert len(configured.requests) == 7
    assert {r.headers["webhook-id"] for r in configured.requests} == {message.webhook_id}
    assert WebhookEndpoint.objects.get(team=team).consecutive_failures == 1


def test_retries_keep_the_webhook_id_and_sign_a_fresh_timestamp(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(503), Reply(200))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        webhook_attempt(webhook_id=message.webhook_id, attempt=2)
    first, second = configured.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.webhook_id
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 60
    assert first.body == second.body


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301, 302, 307])
def test_other_4xx_and_3xx_are_permanent_and_redirects_are_not_followed(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks, status
):
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(status, headers={"Location": configured.url + "/elsewhere"}))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    assert delivery.outcome == Outcome.PERMANENT_FAILURE
    assert delivery.error == f"HTTP {status}"
    assert delivery.next_attempt_at is None
    assert len(configured.requests) == 1  # the Location was not followed
    assert len(queued(deferred_tasks)) == 1  # only attempt 1


def test_a_timeout_is_retried(team, configured, deferred_tasks, django_capture_on_commit_callbacks, monkeypatch):
    import incidentfox_web.egress as egress

    monkeypatch.setattr(egress, "TOTAL_SECONDS", 0.5)
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.release.clear()
    delivery = webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    configured.release.set()
    assert delivery.outcome == Outcome.RETRYABLE_FAILURE
    assert delivery.error == "timeout"
    assert delivery.response_status is None


def test_a_refused_connection_is_retried(team, private_targets, deferred_tasks, django_capture_on_commit_callbacks):
    from tests.support.servers import free_port

    set_webhook_url(team, f"http://127.0.0.1:{free_port()}/nobody")
    message = queue_event(team, django_capture_on_commit_callbacks)
    delivery = webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    assert delivery.outcome == Outcome.RETRYABLE_FAILURE
    assert delivery.error.startswith("network error")


def fail_one_event(team, configured, capture) -> WebhookMessage:
    message = queue_event(team, capture)
    configured.reply(Reply(410))
    webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    return message


def test_five_consecutive_failed_events_disable_the_endpoint_and_later_events_are_skipped(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    for _ in range(4):
        fail_one_event(team, configured, django_capture_on_commit_callbacks)
    assert WebhookEndpoint.objects.get(team=team).disabled_at is None
    fail_one_event(team, configured, django_capture_on_commit_callbacks)

    endpoint = WebhookEndpoint.objects.get(team=team)
    assert endpoint.disabled_at is not None
    audit = AuditEvent.objects.get(event_type="webhook.endpoint_disabled")
    assert audit.team_id == "team-platform"
    assert audit.actor == "system"

    sent_before = len(configured.requests)
    message = queue_event(team, django_capture_on_commit_callbacks)
    assert message.state == MessageState.SKIPPED
    skipped = WebhookDelivery.objects.get(message=message)
    assert skipped.outcome == Outcome.SKIPPED
    assert skipped.error == "endpoint_disabled"
    assert len(configured.requests) == sent_before
    assert len(queued(deferred_tasks)) == 5  # nothing queued for the skipped event


def test_a_success_resets_the_consecutive_failure_count(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    for _ in range(4):
        fail_one_event(team, configured, django_capture_on_commit_callbacks)
    message = queue_event(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(204))
    webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    assert WebhookEndpoint.objects.get(team=team).consecutive_failures == 0
    for _ in range(4):
        fail_one_event(team, configured, django_capture_on_commit_callbacks)
    assert WebhookEndpoint.objects.get(team=team).disabled_at is None


def disable(team, configured, capture) -> None:
    for _ in range(5):
        fail_one_event(team, configured, capture)
    assert WebhookEndpoint.objects.get(team=team).disabled_at is not None


def test_saving_a_new_url_re_enables_the_endpoint(team, configured, deferred_tasks, django_capture_on_commit_callbacks):
    disable(team, configured, django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + timedelta(seconds=1)):
        set_webhook_url(team, configured.url + "?v=2")
        message = queue_event(team, django_capture_on_commit_callbacks)
    assert message.state == MessageState.PENDING
    assert WebhookEndpoint.objects.get(team=team).disabled_at is None


def test_a_successful_test_re_enables_the_endpoint(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    disable(team, configured, django_capture_on_commit_callbacks)
    configured.reply(Reply(200))
    assert webhook_test_send(team=team, url=configured.url).success
    endpoint = WebhookEndpoint.objects.get(team=team)
    assert endpoint.disabled_at is None
    assert endpoint.consecutive_failures == 0


def test_a_failed_test_does_not_re_enable(team, configured, deferred_tasks, django_capture_on_commit_callbacks):
    disable(team, configured, django_capture_on_commit_callbacks)
    configured.reply(Reply(500))
    assert not webhook_test_send(team=team, url=configured.url).success
    assert WebhookEndpoint.objects.get(team=team).disabled_at is not None


def test_saving_the_url_on_a_group_re_enables_the_teams_below_it_whatever_the_audit_log_holds(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    disable(team, configured, django_capture_on_commit_callbacks)
    AuditEvent.objects.all().delete()  # the state lives on the endpoint, not in the log
    set_webhook_url(team.parent, configured.url + "?group=1")
    assert WebhookEndpoint.objects.get(team=team).disabled_at is None


def test_saving_other_settings_leaves_a_disabled_endpoint_disabled(
    team, configured, deferred_tasks, django_capture_on_commit_callbacks
):
    disable(team, configured, django_capture_on_commit_callbacks)
    config_update(node=team, patch={"agents": {"planner": {"max_turns": 7}}}, meta=SYSTEM, admin=True)
    assert WebhookEndpoint.objects.get(team=team).disabled_at is not None
