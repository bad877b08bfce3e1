"""One timestamp format on every table: relative within a week, the exact UTC time on hover, in <time>."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from alerts.models import AlertDelivery
from incidentfox_web.timestamps import timestamp_html
from tenancy.models import AuditEvent, Membership, Node, NodeType, Role
from tests.knowledge.conftest import teach
from webhooks.models import Outcome, WebhookDelivery, WebhookMessage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TIME = re.compile(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">([^<]+)</time>')


def test_a_past_time_reads_relative_a_future_one_reads_in_and_an_old_one_reads_as_a_utc_date():
    with time_machine.travel(NOW, tick=False):
        assert TIME.search(timestamp_html(NOW - timedelta(minutes=5))).group(1) == "5\xa0minutes ago"
        assert TIME.search(timestamp_html(NOW + timedelta(hours=2))).group(1) == "in 2\xa0hours"
        assert TIME.search(timestamp_html(NOW - timedelta(days=30))).group(1) == "2026-11-07 12:00 UTC"
        assert 'title="2026-12-07 11:55:00 UTC"' in timestamp_html(NOW - timedelta(minutes=5))
        assert timestamp_html(None) == "—"


def test_webhook_and_alert_delivery_tables_show_times_in_the_one_format(web_team_admin, team):
    message = WebhookMessage.objects.create(org=team.org, team=team, event="investigation_complete", url="x", body="{}")
    WebhookDelivery.objects.create(
        message=message,
        org=team.org,
        team=team,
        attempt=1,
        attempted_at=timezone.now() - timedelta(minutes=3),
        outcome=Outcome.RETRYABLE_FAILURE,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    AlertDelivery.objects.create(team=team, provider="alertmanager", status_code=202)
    html = web_team_admin.get(f"/teams/{team.node_id}/webhooks").content.decode()
    shown = TIME.findall(html)
    assert "3\xa0minutes ago" in shown
    assert any(text.startswith("in ") for text in shown)
    assert "just now" in shown
    assert not re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d", html)


def test_knowledge_tables_show_times_in_the_one_format(web_member, team):
    teach(team, "# Restart the pod\nkubectl rollout restart deploy/checkout", service="checkout")
    html = web_member.get(f"/teams/{team.node_id}/knowledge").content.decode()
    assert "just now" in TIME.findall(html)


def test_the_admins_token_and_audit_tables_show_times_in_the_one_format(org, team, member):
    user = get_user_model().objects.create_user("alice", "alice@acme.com", "pw-0123456789", is_staff=True)
    Membership.objects.create(user=user, node=Node.objects.get(org=org, node_type=NodeType.ORG), role=Role.ORG_ADMIN)
    client = Client()
    client.force_login(user)
    assert member.get("/auth/me").status_code == 200  # records the token's last use
    tokens = client.get("/admin/tenancy/apitoken/").content.decode()
    assert "just now" in TIME.findall(tokens)
    AuditEvent.objects.create(org=org, event_type="token.issued", actor="alice", target="x")
    audit = client.get("/admin/tenancy/auditevent/").content.decode()
    assert "just now" in TIME.findall(audit)
