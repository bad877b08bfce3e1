"""The delivery log: every delivery that proved a team's secret is kept with each alert's fate, and the Webhooks
page shows it to the team — so "why did this alert start nothing?" has an answer outside the alerting tool."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from alerts import services
from alerts.models import MAX_RECORDED_ALERTS, RETENTION, AlertDelivery
from alerts.services import alert_deliveries_prune
from tenancy.models import Node, Organization, Role
from tests.alerts.conftest import (
    SECRETS,
    am_alert,
    am_payload,
    am_post,
    configure,
    integrations,
    pd_event,
    pd_post,
    send,
)
from tests.web.conftest import signed_in_client

pytestmark = pytest.mark.django_db
PAGE = "/teams/team-platform/webhooks"


def _only_delivery() -> AlertDelivery:
    deliveries = list(AlertDelivery.objects.all())
    assert len(deliveries) == 1
    return deliveries[0]


def test_an_accepted_delivery_is_logged_with_each_alerts_fate(client: Client, wired: Node) -> None:
    configure(wired, {"alerts": {"disabled": ["NoisyDisk"]}})
    payload = am_payload(
        am_alert("aaaa000000000001", "HighLatency"),
        am_alert("aaaa000000000002", "NoisyDisk"),
        am_alert("aaaa000000000003", "ErrorBudget", status="resolved"),
    )

    response = am_post(client, payload)

    assert response.status_code == 202
    run_id = response.json()["investigations"][0]["investigation_id"]
    delivery = _only_delivery()
    assert (delivery.team, delivery.provider, delivery.status_code, delivery.error) == (wired, "alertmanager", 202, "")
    assert (delivery.received, delivery.started) == (3, 1)
    assert delivery.request_id == response["X-Request-ID"]
    assert delivery.outcomes == [
        {
            "fingerprint": "aaaa000000000001",
            "alert_name": "HighLatency",
            "outcome": "started",
            "investigation_id": run_id,
        },
        {"fingerprint": "aaaa000000000002", "alert_name": "NoisyDisk", "outcome": "disabled"},
        {"fingerprint": "aaaa000000000003", "alert_name": "ErrorBudget", "outcome": "resolved"},
    ]


def test_a_duplicate_is_logged_with_the_run_that_is_still_active(client: Client, wired: Node) -> None:
    first = am_post(client, am_payload(am_alert("bbbb000000000001"))).json()["investigations"][0]["investigation_id"]

    am_post(client, am_payload(am_alert("bbbb000000000001")))

    latest = AlertDelivery.objects.order_by("-id").first()
    assert latest is not None
    assert latest.outcomes == [
        {
            "fingerprint": "bbbb000000000001",
            "alert_name": "HighLatency",
            "outcome": "duplicate",
            "investigation_id": first,
        }
    ]


def test_a_payload_the_team_sent_but_we_could_not_read_is_logged_with_the_error_it_was_given(
    client: Client, wired: Node
) -> None:
    response = am_post(client, am_payload(am_alert("cccc000000000001"), version="3"))

    assert response.status_code == 400
    delivery = _only_delivery()
    assert delivery.status_code == 400
    assert delivery.error == response.json()["error"]["message"]
    assert (delivery.received, delivery.started, delivery.outcomes) == (0, 0, [])


def test_the_first_rate_limited_delivery_of_a_minute_is_logged_and_a_retry_storm_adds_no_rows(
    client: Client, org: Organization, wired: Node
) -> None:
    org.rate_limits = {"integration": 1}
    org.save()
    with time_machine.travel(1_705_318_200.5, tick=False) as clock:
        am_post(client, am_payload(am_alert("dddd000000000001")))
        refused = [am_post(client, am_payload(am_alert(f"dddd00000000001{n}"))) for n in range(5)]
        clock.shift(60)
        am_post(client, am_payload(am_alert("dddd000000000003")))
        next_minute = [am_post(client, am_payload(am_alert("dddd000000000004"))) for _ in range(2)]

    assert {response.status_code for response in refused + next_minute} == {429}
    assert list(AlertDelivery.objects.order_by("id").values_list("status_code", "error")) == [
        (202, ""),
        (429, "Too many requests (later refusals in this minute are not listed)"),
        (202, ""),
        (429, "Too many requests (later refusals in this minute are not listed)"),
    ]


def test_a_delivery_that_fails_the_proof_is_not_logged_for_any_team(client: Client, wired: Node) -> None:
    assert am_post(client, am_payload(am_alert("eeee000000000001")), token="wrong-token").status_code == 401
    assert pd_post(client, pd_event("PWRONG1"), secret="wrong-secret").status_code == 401
    assert send(client, "alertmanager", "{}", {"Authorization": "Bearer x"}, team_id="team-nope").status_code == 401

    assert not AlertDelivery.objects.exists()


def test_only_the_first_alerts_of_a_huge_payload_are_kept_but_all_are_counted(client: Client, wired: Node) -> None:
    count = MAX_RECORDED_ALERTS + 5
    payload = am_payload(*(am_alert(f"ffff{index:012d}", status="resolved") for index in range(count)))

    assert am_post(client, payload).status_code == 202

    delivery = _only_delivery()
    assert delivery.received == count
    assert len(delivery.outcomes) == MAX_RECORDED_ALERTS


def test_a_failed_log_write_still_answers_the_delivery(
    client: Client, wired: Node, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**fields: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(services.AlertDelivery.objects, "create", broken)

    response = am_post(client, am_payload(am_alert("abab000000000001")))

    assert response.status_code == 202
    assert response.json()["investigations"]
    assert "Could not log the alertmanager delivery" in caplog.text


def test_deliveries_older_than_the_retention_are_pruned(client: Client, wired: Node) -> None:
    with time_machine.travel(timezone.now() - RETENTION - timedelta(minutes=1)):
        am_post(client, am_payload(am_alert("acac000000000001", status="resolved")))
    am_post(client, am_payload(am_alert("acac000000000002", status="resolved")))

    assert alert_deliveries_prune() == 1
    assert [d.outcomes[0]["fingerprint"] for d in AlertDelivery.objects.all()] == ["acac000000000002"]


def test_the_webhooks_page_shows_the_teams_deliveries_and_no_other_teams(
    client: Client, wired: Node, other_team: Node
) -> None:
    configure(other_team, integrations())
    configure(wired, {"alerts": {"disabled": ["NoisyDisk"]}})
    run_id = am_post(
        client, am_payload(am_alert("adad000000000001", "HighLatency"), am_alert("adad000000000002", "NoisyDisk"))
    ).json()["investigations"][0]["investigation_id"]
    am_post(client, am_payload(am_alert("adad000000000003", "PaymentsOnly")), team_id="team-payments")
    viewer = signed_in_client(wired, Role.VIEWER, "viewer")

    page = viewer.get(PAGE).content.decode()

    section = page.split('id="alert-deliveries-heading"', 1)[1].split("</section>", 1)[0]
    assert f'href="/investigations/{run_id}"' in section
    assert "HighLatency" in section
    assert "NoisyDisk" in section
    assert ">disabled<" in section
    assert "PaymentsOnly" not in page
    assert all(secret not in page for secret in SECRETS)
