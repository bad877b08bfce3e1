"""The web settings page: URL, reveal-once secret rotation, test sends, recent deliveries, access rules."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent, Role
from tests.web.conftest import signed_in_client
from tests.webhooks.conftest import Reply, finish
from webhooks.models import WebhookEndpoint
from webhooks.signing import webhook_secret_get

pytestmark = pytest.mark.django_db

PAGE = "/teams/team-platform/webhooks"


@pytest.fixture
def team_admin(team):
    return signed_in_client(team, Role.ADMIN, "teamadmin")


@pytest.fixture
def operator(team):
    return signed_in_client(team, Role.OPERATOR, "operator")


@pytest.fixture
def viewer(team):
    return signed_in_client(team, Role.VIEWER, "viewer")


def test_the_page_shows_the_url_and_recent_deliveries(viewer, team, configured, django_capture_on_commit_callbacks):
    investigation = finish(team, django_capture_on_commit_callbacks)
    response = viewer.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert configured.url in html
    assert investigation.id in html
    assert "Success" in html
    assert 'aria-current="page">Webhooks' in html
    assert "Rotate secret" not in html
    assert "Send test event" not in html


def test_rotating_reveals_the_new_secret_once(team_admin, team):
    before = webhook_secret_get(team=team).secret
    response = team_admin.post(PAGE, {"action": "rotate"})
    assert response.status_code == 200
    new = webhook_secret_get(team=team).secret
    assert new != before
    assert new in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(event_type="webhook.secret_rotated").count() == 1
    again = team_admin.get(PAGE).content.decode()
    assert new not in again
    assert new not in str(dict(team_admin.session))


def test_rotation_needs_a_csrf_token(team):
    client = signed_in_client(team, Role.ADMIN, "csrfadmin", enforce_csrf=True)
    before = webhook_secret_get(team=team).secret
    assert client.post(PAGE, {"action": "rotate"}).status_code == 403
    assert webhook_secret_get(team=team).secret == before


def test_operators_and_viewers_cannot_rotate(operator, viewer, team):
    before = webhook_secret_get(team=team).secret
    assert operator.post(PAGE, {"action": "rotate"}).status_code == 403
    assert viewer.post(PAGE, {"action": "rotate"}).status_code == 403
    assert webhook_secret_get(team=team).secret == before


def test_an_operator_sends_a_test_event_and_sees_the_result(operator, configured):
    configured.reply(Reply(503))
    response = operator.post(PAGE, {"action": "test"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Test event failed" in html
    assert "503" in html
    assert "HTTP 503" in html
    assert len(configured.requests) == 1


def test_a_viewer_cannot_send_a_test_event(viewer, configured):
    assert viewer.post(PAGE, {"action": "test"}).status_code == 403
    assert configured.requests == []


def test_a_test_without_a_url_says_so(operator):
    response = operator.post(PAGE, {"action": "test"})
    assert response.status_code == 400
    assert "No investigation_complete webhook URL configured" in response.content.decode()


def test_a_team_admin_saves_the_url_and_that_re_enables_the_endpoint(team_admin, team, receiver, private_targets):
    from webhooks.signing import webhook_endpoint_for_team

    endpoint = webhook_endpoint_for_team(team)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at="2024-01-01T00:00:00Z", consecutive_failures=5)
    response = team_admin.post(PAGE, {"action": "url", "url": receiver.url})
    assert response.status_code == 200
    assert receiver.url in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    assert endpoint.consecutive_failures == 0


def test_a_private_literal_url_is_refused_when_private_targets_are_off(team_admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = team_admin.post(PAGE, {"action": "url", "url": "http://10.0.0.1/hook"})
    assert response.status_code == 400
    assert "private" in response.content.decode()


def test_another_teams_page_is_404(team, other_team, outsider_team):
    same_org_other_team = signed_in_client(other_team, Role.ADMIN, "payments")
    assert same_org_other_team.get(PAGE).status_code == 404
    assert same_org_other_team.post(PAGE, {"action": "rotate"}).status_code == 404
    outsider = signed_in_client(outsider_team, Role.ADMIN, "globex")
    assert outsider.get("/teams/team-payments/webhooks").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, team):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
