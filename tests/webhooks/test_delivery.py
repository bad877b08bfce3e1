"""Events, signing, rotation, the delivery log and when events fire (API.md §6.1–6.3)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from investigations.models import Status
from investigations.services import investigation_finish
from tenancy.audit import RequestMeta
from tests.investigations.conftest import start
from tests.webhooks.conftest import Reply, finish, set_webhook_url
from webhooks.delivery import webhook_attempt, webhook_event_queue
from webhooks.models import MessageState, Outcome, WebhookDelivery, WebhookMessage
from webhooks.signing import webhook_secret_get, webhook_secret_rotate

pytestmark = pytest.mark.django_db


def verify(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_completed_investigation_is_delivered_signed_with_the_team_secret(
    team, configured, django_capture_on_commit_callbacks
):
    investigation = finish(team, django_capture_on_commit_callbacks)

    assert len(configured.requests) == 1
    request = configured.requests[0]
    payload = verify(webhook_secret_get(team=team).secret, request)
    assert payload["event"] == "investigation_complete"
    assert payload["investigation_id"] == investigation.id
    assert payload["team_id"] == "team-platform"
    assert payload["status"] == "completed"
    assert payload["summary"] == "Connection pool exhaustion on payments-db"
    assert payload["url"].endswith(f"/investigations/{investigation.id}")
    assert request.headers["user-agent"] == "IncidentFox-Webhooks/1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == Outcome.SUCCESS
    assert delivery.response_status == 200
    assert delivery.attempt == 1
    assert delivery.message.state == MessageState.DELIVERED


def test_the_secret_is_whsec_and_32_random_bytes(team):
    import base64

    secret = webhook_secret_get(team=team).secret
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_during_rotation_both_secrets_sign_newest_first(team, configured, django_capture_on_commit_callbacks):
    old = webhook_secret_get(team=team).secret
    new = webhook_secret_rotate(team=team, meta=RequestMeta(actor="test")).secret
    finish(team, django_capture_on_commit_callbacks)

    request = configured.requests[0]
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    one_each = dict(request.headers)
    one_each["webhook-signature"] = signatures[0]
    verify(new, type(request)(request.path, one_each, request.body))
    one_each["webhook-signature"] = signatures[1]
    verify(old, type(request)(request.path, one_each, request.body))


def test_the_previous_secret_stops_signing_after_24_hours(team, configured, django_capture_on_commit_callbacks):
    webhook_secret_rotate(team=team, meta=RequestMeta(actor="test"))
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        finish(team, django_capture_on_commit_callbacks)
        assert webhook_secret_get(team=team).previous_secret_expires_at is None
    assert len(configured.requests[0].headers["webhook-signature"].split(" ")) == 1


def test_rotating_twice_keeps_at_most_two_secrets(team, configured, django_capture_on_commit_callbacks):
    first = webhook_secret_get(team=team).secret
    webhook_secret_rotate(team=team, meta=RequestMeta(actor="test"))
    newest = webhook_secret_rotate(team=team, meta=RequestMeta(actor="test")).secret
    finish(team, django_capture_on_commit_callbacks)
    signatures = configured.requests[0].headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert signatures[0] == Webhook(newest).sign(
        configured.requests[0].headers["webhook-id"],
        timezone.datetime.fromtimestamp(int(configured.requests[0].headers["webhook-timestamp"]), tz=timezone.UTC),
        configured.requests[0].body.decode(),
    )
    assert all(sig != Webhook(first).sign("x", timezone.now(), "") for sig in signatures)


def test_the_secret_is_stored_encrypted(team):
    from webhooks.models import WebhookEndpoint

    secret = webhook_secret_get(team=team).secret
    row = WebhookEndpoint.objects.get(team=team)
    assert secret not in row.secret_ciphertext
    assert row.secret_ciphertext.startswith("enc:")


def test_key_rotation_re_encrypts_signing_secrets_so_the_old_key_can_be_removed(
    team, settings, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    from teamconfig.secrets import key_version_of
    from webhooks.models import WebhookEndpoint

    settings.CONFIG_ENCRYPTION_KEYS = {"1": "first-key-material-0123456789"}
    with django_capture_on_commit_callbacks(execute=True):
        first = webhook_secret_get(team=team).secret
        current = webhook_secret_rotate(team=team, meta=RequestMeta.system()).secret
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "first-key-material-0123456789", "2": "second-key-material-0123456789"}

    out = io.StringIO()
    call_command("config_secrets_reencrypt", stdout=out)

    assert out.getvalue().strip() == "Re-encrypted secrets in 0 row(s) and 1 webhook endpoint(s)."
    row = WebhookEndpoint.objects.get(team=team)
    assert key_version_of(row.secret_ciphertext) == key_version_of(row.previous_secret_ciphertext) == "2"
    settings.CONFIG_ENCRYPTION_KEYS = {"2": "second-key-material-0123456789"}
    assert webhook_secret_get(team=team).secret == current
    assert current != first


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_each_terminal_state_fires_exactly_one_event(team, configured, django_capture_on_commit_callbacks, status):
    fields = {"error_code": "engine_error", "error_message": "boom"} if status == Status.FAILED else {}
    investigation = finish(team, django_capture_on_commit_callbacks, status=status, **fields)
    # A second, late finish changes nothing and fires nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert not investigation_finish(investigation_id=investigation.id, status=Status.COMPLETED)

    assert len(configured.requests) == 1
    payload = configured.last_json()
    assert payload["status"] == status
    if status == Status.FAILED:
        assert payload["summary"] == "Investigation failed: boom"
        assert payload["error"] == {"code": "engine_error", "message": "boom"}
        assert payload["root_cause"] is None
        assert payload["recommendations"] == []
    if status == Status.CANCELLED:
        assert payload["summary"] == "Investigation cancelled"


def test_no_event_is_sent_before_the_state_change_commits(team, configured, django_capture_on_commit_callbacks):
    investigation = start(team)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        investigation_finish(investigation_id=investigation.id, status=Status.COMPLETED, result={"summary": "x"})
        assert WebhookMessage.objects.count() == 0
    assert configured.requests == []
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert len(configured.requests) == 1


def test_a_rolled_back_finish_sends_nothing(team, configured, django_capture_on_commit_callbacks):
    investigation = start(team)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                investigation_finish(investigation_id=investigation.id, status=Status.COMPLETED, result={})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert configured.requests == []
    assert WebhookMessage.objects.count() == 0


def test_no_url_or_an_empty_url_queues_nothing(
    team, org, receiver, private_targets, django_capture_on_commit_callbacks
):
    from tenancy.models import Node, NodeType

    root = Node.objects.get(org=org, node_type=NodeType.ORG)
    finish(team, django_capture_on_commit_callbacks)
    set_webhook_url(root, receiver.url)
    set_webhook_url(team, "")  # switches off the inherited URL
    finish(team, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert WebhookMessage.objects.count() == 0


def test_an_inherited_url_is_used(team, org, receiver, private_targets, django_capture_on_commit_callbacks):
    from tenancy.models import Node, NodeType

    set_webhook_url(Node.objects.get(org=org, node_type=NodeType.ORG), receiver.url)
    finish(team, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1


def test_the_attempt_is_logged_as_sending_before_the_call(team, configured, monkeypatch):
    import webhooks.delivery as delivery_module

    message = webhook_event_queue(team=team, event={"event": "investigation_complete", "investigation_id": "inv_x"})
    real_post = delivery_module.post_json
    seen_during_call: list[list[tuple[str, int]]] = []

    def observing_post(*args, **kwargs):
        seen_during_call.append(list(WebhookDelivery.objects.values_list("outcome", "attempt")))
        return real_post(*args, **kwargs)

    monkeypatch.setattr(delivery_module, "post_json", observing_post)
    delivery = webhook_attempt(webhook_id=message.webhook_id, attempt=1)

    assert seen_during_call == [[(Outcome.SENDING, 1)]]
    delivery.refresh_from_db()
    assert delivery.outcome == Outcome.SUCCESS


def test_a_duplicate_run_of_the_same_attempt_sends_nothing(team, configured):
    message = webhook_event_queue(team=team, event={"event": "investigation_complete", "investigation_id": "inv_x"})
    configured.reply(Reply(503))
    assert webhook_attempt(webhook_id=message.webhook_id, attempt=1) is not None
    assert webhook_attempt(webhook_id=message.webhook_id, attempt=1) is None
    assert len(configured.requests) == 1
