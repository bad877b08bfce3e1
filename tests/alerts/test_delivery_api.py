"""``GET /api/v1/integrations/deliveries``: the team's inbound alert deliveries over the API, for platform teams
that audit their alerting from scripts — each delivery's answer and every alert's fate, never another team's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from alerts.models import AlertDelivery
from tenancy.models import Node
from tests.alerts.conftest import am_alert, am_payload, am_post, pd_event, pd_post

pytestmark = pytest.mark.django_db


def test_a_team_lists_its_deliveries_newest_first_with_each_alerts_fate(
    client: Client, wired: Node, member: Any
) -> None:
    started = am_post(client, am_payload(am_alert("cccc000000000001", "HighLatency"))).json()
    am_post(client, am_payload(am_alert("cccc000000000002", "Gone", status="resolved")))

    response = member.get("/integrations/deliveries")

    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"total": 2, "limit": 50, "offset": 0}
    newest, oldest = body["deliveries"]
    assert set(newest) == {
        "received_at", "provider", "request_id", "status_code", "error", "received", "started", "alerts"
    }  # fmt: skip
    assert (newest["provider"], newest["status_code"], newest["error"]) == ("alertmanager", 202, None)
    assert newest["alerts"] == [{"fingerprint": "cccc000000000002", "alert_name": "Gone", "outcome": "resolved"}]
    assert oldest["alerts"] == [
        {
            "fingerprint": "cccc000000000001",
            "alert_name": "HighLatency",
            "outcome": "started",
            "investigation_id": started["investigations"][0]["investigation_id"],
        }
    ]
    assert newest["received_at"].endswith("Z")


def test_deliveries_filter_by_provider_and_page_with_limit_and_offset(client: Client, wired: Node, member: Any) -> None:
    am_post(client, am_payload(am_alert("dddd000000000001")))
    pd_post(client, pd_event("Q1AAAAAAAAAAAA"))
    pd_post(client, pd_event("Q1BBBBBBBBBBBB"))

    paged = member.get("/integrations/deliveries", provider="pagerduty", limit=1, offset=1).json()

    assert paged["pagination"] == {"total": 2, "limit": 1, "offset": 1}
    assert [d["provider"] for d in paged["deliveries"]] == ["pagerduty"]


@pytest.mark.parametrize(
    ("params", "field"), [({"provider": "nagios"}, "provider"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset")]
)
def test_bad_filters_are_a_validation_error_naming_the_field(
    wired: Node, member: Any, params: dict[str, Any], field: str
) -> None:
    response = member.get("/integrations/deliveries", **params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["message"]


def test_another_teams_deliveries_are_never_listed(client: Client, wired: Node, other_member: Any) -> None:
    am_post(client, am_payload(am_alert("eeee000000000001")))
    assert AlertDelivery.objects.count() == 1

    response = other_member.get("/integrations/deliveries")

    assert response.status_code == 200
    assert response.json()["deliveries"] == []


def test_a_read_only_token_may_read_the_log_and_no_credential_gets_401(
    wired: Node, read_only_member: Any, anonymous: Any
) -> None:
    assert read_only_member.get("/integrations/deliveries").status_code == 200
    assert anonymous.get("/integrations/deliveries").status_code == 401
