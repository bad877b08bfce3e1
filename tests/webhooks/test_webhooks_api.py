"""GET /webhooks/secret, POST /webhooks/secret/rotate, GET /webhooks/deliveries, POST /webhooks/test (API.md §6)."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from tenancy.models import AuditEvent
from tests.webhooks.conftest import Reply, finish
from webhooks.delivery import webhook_event_queue
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

TEAM = {"X-Team-Id": "team-platform"}


def test_member_reads_the_team_secret_without_caching(member):
    response = member.get("/webhooks/secret")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"secret", "created_at", "previous_secret_expires_at"}
    assert body["secret"].startswith("whsec_")
    assert body["previous_secret_expires_at"] is None
    assert response["Cache-Control"] == "no-store"
    assert member.get("/webhooks/secret").json()["secret"] == body["secret"]


def test_read_only_member_may_not_read_or_rotate_the_secret(read_only_member):
    assert read_only_member.get("/webhooks/secret").status_code == 403
    response = read_only_member.post("/webhooks/secret/rotate")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Token does not have write permissions"
    assert read_only_member.post("/webhooks/test", {"url": "https://example.com"}).status_code == 403


def test_read_only_member_may_list_deliveries(read_only_member):
    assert read_only_member.get("/webhooks/deliveries").status_code == 200


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_for_24_hours(member):
    old = member.get("/webhooks/secret").json()["secret"]
    response = member.post("/webhooks/secret/rotate")
    assert response.status_code == 200
    body = response.json()
    assert body["secret"] != old
    assert body["previous_secret_expires_at"] is not None
    assert member.get("/webhooks/secret").json()["secret"] == body["secret"]
    audit = AuditEvent.objects.get(event_type="webhook.secret_rotated")
    assert audit.team_id == "team-platform"
    assert old not in str(audit.details)
    assert body["secret"] not in str(audit.details)


def test_org_admin_needs_a_team_header_and_each_team_has_its_own_secret(org_admin, member, other_team):
    assert org_admin.get("/webhooks/secret").status_code == 400
    mine = org_admin.get("/webhooks/secret", headers=TEAM).json()["secret"]
    assert mine == member.get("/webhooks/secret").json()["secret"]
    other = org_admin.get("/webhooks/secret", headers={"X-Team-Id": "team-payments"}).json()["secret"]
    assert other != mine


def test_outsider_cannot_name_another_team(outsider, org_admin, team, other_team):
    assert outsider.get("/webhooks/secret", headers={"X-Team-Id": "team-payments"}).status_code == 403
    # outsider's own team is called team-platform too, but it is a different team with its own secret
    theirs = outsider.get("/webhooks/secret").json()["secret"]
    assert theirs != org_admin.get("/webhooks/secret", headers=TEAM).json()["secret"]


def test_test_event_is_signed_and_reports_what_the_target_did(member, configured):
    configured.reply(Reply(404))
    response = member.post("/webhooks/test")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"delivery_id", "webhook_id", "url", "success", "response_status", "duration_ms", "error"}
    assert body["success"] is False
    assert body["response_status"] == 404
    assert body["error"] == "HTTP 404"
    assert body["url"] == configured.url
    request = configured.requests[0]
    payload = Webhook(member.get("/webhooks/secret").json()["secret"]).verify(request.body, request.headers)
    assert payload["event"] == "webhook.test"
    assert payload["team_id"] == "team-platform"
    assert "sent_at" in payload


def test_test_event_to_an_explicit_url_succeeds(member, receiver, private_targets):
    body = member.post("/webhooks/test", {"url": receiver.url}).json()
    assert body["success"] is True
    assert body["response_status"] == 200
    assert body["error"] is None
    assert body["delivery_id"].startswith("whd_")
    assert body["webhook_id"].startswith("msg_")


def test_test_without_any_url_is_an_invalid_request(member):
    response = member.post("/webhooks/test")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "No investigation_complete webhook URL configured",
        "request_id": response["X-Request-ID"],
    }


def test_test_to_a_private_address_answers_200_with_blocked_address(member, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    body = member.post("/webhooks/test", {"url": "http://169.254.169.254/latest"}).json()
    assert body["success"] is False
    assert body["error"] == "blocked_address"
    assert body["response_status"] is None


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", 42])
def test_test_with_a_bad_url_is_a_validation_error(member, url):
    response = member.post("/webhooks/test", {"url": url})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_deliveries_list_newest_first_with_filters_and_pagination(
    member, team, configured, django_capture_on_commit_callbacks
):
    first = finish(team, django_capture_on_commit_callbacks)
    configured.reply(Reply(410))
    second = finish(team, django_capture_on_commit_callbacks)

    body = member.get("/webhooks/deliveries").json()
    assert body["pagination"] == {"total": 2, "limit": 50, "offset": 0}
    newest, oldest = body["deliveries"]
    assert newest["investigation_id"] == second.id
    assert newest["outcome"] == "permanent_failure"
    assert newest["response_status"] == 410
    assert newest["error"] == "HTTP 410"
    assert oldest["investigation_id"] == first.id
    assert oldest["outcome"] == "success"
    assert set(oldest) == {
        "delivery_id",
        "webhook_id",
        "event",
        "investigation_id",
        "url",
        "attempt",
        "attempted_at",
        "outcome",
        "response_status",
        "error",
        "duration_ms",
        "next_attempt_at",
    }
    assert oldest["event"] == "investigation_complete"
    assert oldest["attempted_at"].endswith("Z")

    by_investigation = member.get("/webhooks/deliveries", investigation_id=first.id).json()
    assert [d["investigation_id"] for d in by_investigation["deliveries"]] == [first.id]
    failed = member.get("/webhooks/deliveries", outcome="permanent_failure").json()
    assert failed["pagination"]["total"] == 1
    page = member.get("/webhooks/deliveries", limit=1, offset=1).json()
    assert page["pagination"] == {"total": 2, "limit": 1, "offset": 1}
    assert page["deliveries"][0]["investigation_id"] == first.id


@pytest.mark.parametrize(("param", "value"), [("limit", "0"), ("limit", "101"), ("offset", "-1"), ("outcome", "nope")])
def test_deliveries_reject_out_of_range_parameters(member, param, value):
    response = member.get("/webhooks/deliveries", **{param: value})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_deliveries_are_team_scoped(
    member, other_member, outsider, team, configured, django_capture_on_commit_callbacks
):
    investigation = finish(team, django_capture_on_commit_callbacks)
    assert member.get("/webhooks/deliveries").json()["pagination"]["total"] == 1
    assert other_member.get("/webhooks/deliveries").json()["pagination"]["total"] == 0
    assert outsider.get("/webhooks/deliveries").json()["pagination"]["total"] == 0
    assert outsider.get("/webhooks/deliveries", investigation_id=investigation.id).json()["deliveries"] == []


def test_listing_deliveries_costs_the_same_queries_for_1_and_20_rows(
    member, team, configured, django_assert_max_num_queries
):
    webhook_event_queue(team=team, event={"event": "investigation_complete", "investigation_id": "inv_1"})
    member.get("/webhooks/deliveries")  # warm the credential's last-use write
    with django_assert_max_num_queries(8) as one:
        member.get("/webhooks/deliveries")
    for n in range(20):
        webhook_event_queue(team=team, event={"event": "investigation_complete", "investigation_id": f"inv_{n}"})
    from webhooks.delivery import webhook_attempt
    from webhooks.models import WebhookMessage

    for message in WebhookMessage.objects.all():
        webhook_attempt(webhook_id=message.webhook_id, attempt=1)
    assert WebhookDelivery.objects.count() >= 20
    with django_assert_max_num_queries(8) as twenty:
        member.get("/webhooks/deliveries")
    assert len(twenty.captured_queries) == len(one.captured_queries)


def test_unauthenticated_calls_get_401(anonymous):
    assert anonymous.get("/webhooks/deliveries").status_code == 401
    assert anonymous.post("/webhooks/test").status_code == 401
