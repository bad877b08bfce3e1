"""POST /integrations/{provider}/{org_id}/{team_id} (API.md §7): verification, investigations, skip reasons, limits."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.tasks import task_backends
from django.test import Client
from django.test.utils import CaptureQueriesContext

from alerts.services import ENGINE_DEFAULT_LOOKBACK, time_window_for
from engine.analysis_context import DEFAULT_WINDOW
from investigations.models import Investigation, Status
from tenancy.audit import RequestMeta
from tenancy.models import Node, NodeType, Organization
from tenancy.services import node_create
from tests.alerts.conftest import (
    AM_TOKEN,
    IO_SECRET,
    PD_SECRET,
    SECRETS,
    am_alert,
    am_payload,
    am_post,
    configure,
    integrations,
    io_event,
    io_headers,
    io_post,
    pd_event,
    pd_post,
    pd_signature,
    send,
    url,
)
from tests.conftest import ApiCaller

pytestmark = pytest.mark.django_db

RESPONSE_KEYS = {"received", "investigations", "skipped"}
STARTED_KEYS = {"fingerprint", "investigation_id"}
SKIPPED_KEYS = {"fingerprint", "reason"}
CONTEXT_KEYS = {"source", "related_alert", "service", "severity", "alert"}


def accepted(response: Any) -> dict[str, Any]:
    """The 202 body, with its exact shape checked."""
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == RESPONSE_KEYS
    for item in body["investigations"]:
        assert set(item) == STARTED_KEYS
        assert item["investigation_id"].startswith("inv_")
    for item in body["skipped"]:
        assert set(item) == (SKIPPED_KEYS | {"investigation_id"} if item["reason"] == "duplicate" else SKIPPED_KEYS)
    return body


def started(body: dict[str, Any]) -> list[str]:
    return [item["fingerprint"] for item in body["investigations"]]


def skipped(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["fingerprint"], item["reason"]) for item in body["skipped"]]


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()["error"]


def without_request_id(response: Any) -> dict[str, Any]:
    return {key: value for key, value in response.json()["error"].items() if key != "request_id"}


def assert_refused_alike(client: Client, responses: dict[str, Any]) -> None:
    """Every case is the one inbound 401 (a ``missing`` proof reads ``Authentication required``); nothing started."""
    reference = am_bad_token_401(client)
    for case, response in responses.items():
        assert response.status_code == 401, case
        assert without_request_id(response)["code"] == "unauthorized", case
        if case != "missing":
            assert without_request_id(response) == without_request_id(reference), case
    assert not Investigation.objects.exists()


def am_bad_token_401(client: Client) -> Any:
    """What a wrong Alertmanager token gets: the one 401 every refused inbound webhook must repeat (API.md §7)."""
    response = am_post(client, am_payload(am_alert("0000000000000000")), token="am-bearer-wrong-0000000000")
    assert response.status_code == 401
    return response


def bad_token_401(client: Client) -> Any:
    """What a bad Bearer credential gets from the rest of the API: the reference every inbound 401 must match."""
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer ift_AAAAAAAAAAAA." + "a" * 40})
    assert response.status_code == 401
    return response


# -- Alertmanager -------------------------------------------------------------------------------------------------
def test_a_firing_alertmanager_alert_starts_one_planner_investigation(client: Client, wired: Node) -> None:
    alert = am_alert("3f2a9c1d7b6e8f00", "HighLatency", severity="critical", service="payments-api")
    body = accepted(am_post(client, am_payload(alert)))

    assert body["received"] == 1
    assert started(body) == ["3f2a9c1d7b6e8f00"]
    assert body["skipped"] == []
    run = Investigation.objects.get(pk=body["investigations"][0]["investigation_id"])
    assert (run.team, run.agent, run.trigger_source, run.status) == (wired, "planner", "alertmanager", Status.PENDING)
    assert run.alert_fingerprint == "3f2a9c1d7b6e8f00"
    assert run.message.startswith("Alert HighLatency firing")
    assert "p99 latency above 2s on payments-api" in run.message
    assert set(run.context) >= CONTEXT_KEYS
    assert run.context["source"] == "alertmanager"
    assert run.context["related_alert"] == "3f2a9c1d7b6e8f00"
    assert run.context["service"] == "payments-api"
    assert run.context["severity"] == "high"
    assert run.context["alert"] == alert


def test_each_firing_alert_in_a_payload_starts_its_own_run_and_resolved_ones_are_skipped(
    client: Client, wired: Node
) -> None:
    payload = am_payload(
        am_alert("aaaa000000000001", "HighLatency"),
        am_alert("aaaa000000000002", "DiskFull", status="resolved"),
        am_alert("aaaa000000000003", "ErrorBudgetBurn"),
    )
    body = accepted(am_post(client, payload))

    assert body["received"] == 3
    assert started(body) == ["aaaa000000000001", "aaaa000000000003"]
    assert skipped(body) == [("aaaa000000000002", "resolved")]
    runs = Investigation.objects.filter(team=wired)
    assert sorted(runs.values_list("alert_fingerprint", flat=True)) == ["aaaa000000000001", "aaaa000000000003"]
    assert {item["investigation_id"] for item in body["investigations"]} == set(runs.values_list("pk", flat=True))


def test_the_service_comes_from_the_service_label_and_falls_back_to_the_job_label(client: Client, wired: Node) -> None:
    payload = am_payload(
        am_alert("bbbb000000000001", service="checkout", job="checkout-exporter"),
        am_alert("bbbb000000000002", service=None, job="node-exporter"),
    )
    body = accepted(am_post(client, payload))

    services = {
        item["fingerprint"]: Investigation.objects.get(pk=item["investigation_id"]).context["service"]
        for item in body["investigations"]
    }
    assert services == {"bbbb000000000001": "checkout", "bbbb000000000002": "node-exporter"}


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", "high"),
        ("high", "high"),
        ("major", "high"),
        ("warning", "medium"),
        ("minor", "medium"),
        ("medium", "medium"),
        ("info", "low"),
        (None, "low"),
    ],
)
def test_alert_severity_labels_map_to_high_medium_or_low(
    client: Client, wired: Node, label: str | None, severity: str
) -> None:
    body = accepted(am_post(client, am_payload(am_alert("cccc000000000001", severity=label))))

    run = Investigation.objects.get(pk=body["investigations"][0]["investigation_id"])
    assert run.context["severity"] == severity


@pytest.mark.parametrize("version", ["3", None])
def test_an_alertmanager_payload_that_is_not_version_4_is_a_400(
    client: Client, wired: Node, version: str | None
) -> None:
    response = am_post(client, am_payload(am_alert("dddd000000000001"), version=version))

    assert error_of(response, 400)["code"] == "invalid_request"
    assert not Investigation.objects.exists()


def test_a_request_without_a_bearer_token_is_a_401(client: Client, wired: Node) -> None:
    response = am_post(client, am_payload(am_alert("eeee000000000001")), token=None)

    assert error_of(response, 401)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="incidentfox"')
    assert not Investigation.objects.exists()


def test_unknown_org_or_team_a_foreign_team_a_disabled_or_absent_integration_and_a_bad_token_give_one_401(
    client: Client, wired: Node, other_team: Node, other_org: Organization
) -> None:
    configure(other_team, {"integrations": {"alertmanager": {"enabled": False, "bearer_token": {"secret": AM_TOKEN}}}})
    foreign = node_create(
        org=other_org, node_id="team-globex", name="Globex SRE", node_type=NodeType.TEAM, meta=RequestMeta.system()
    )
    configure(foreign, integrations())
    node_create(org=wired.org, node_id="team-data", name="Data", node_type=NodeType.TEAM, meta=RequestMeta.system())
    payload = am_payload(am_alert("ffff000000000001"))

    responses = {
        "unknown org": am_post(client, payload, org_id="org-nope"),
        "unknown team": am_post(client, payload, team_id="team-nope"),
        "team of another org": am_post(client, payload, team_id="team-globex"),
        "disabled integration": am_post(client, payload, team_id="team-payments"),
        "absent integration": am_post(client, payload, team_id="team-data"),
        "bad token": am_post(client, payload, token="am-bearer-wrong-0000000000"),
    }

    reference = responses["bad token"]
    for case, response in responses.items():
        assert response.status_code == 401, case
        assert without_request_id(response) == without_request_id(reference), case
        assert response.headers["WWW-Authenticate"] == reference.headers["WWW-Authenticate"], case
    assert without_request_id(reference)["code"] == without_request_id(bad_token_401(client))["code"] == "unauthorized"
    assert reference.headers["WWW-Authenticate"].startswith('Bearer realm="incidentfox"')
    assert not Investigation.objects.exists()


def test_an_inbound_401_reads_exactly_like_a_bad_api_token_401(client: Client, wired: Node) -> None:
    """API.md §1.3: a bad credential or inbound signature is ``unauthorized``, ``Invalid or expired token``, with
    ``WWW-Authenticate: Bearer realm="incidentfox", error="invalid_token"`` since a credential was presented."""
    responses = {
        "alertmanager": am_post(client, am_payload(am_alert("ffff000000000002")), token="am-bearer-wrong-000000"),
        "pagerduty": pd_post(client, pd_event("PBAD009"), secret="pd-secret-not-ours"),
        "incidentio": io_post(client, io_event("01HBAD00000000000000000009"), secret="whsec_" + "QUJD" * 11),
    }

    reference = bad_token_401(client)
    for provider, response in responses.items():
        assert response.status_code == 401, provider
        assert without_request_id(response) == without_request_id(reference), provider
        assert response.headers["WWW-Authenticate"] == reference.headers["WWW-Authenticate"], provider


def test_a_bad_token_is_refused_before_the_body_is_judged(client: Client, wired: Node) -> None:
    """API.md §1.3 precedence: 401 comes before 415, 413 and 400."""
    wrong = "am-bearer-wrong-0000000000"
    oversized = am_payload(am_alert("ffff000000000003"))
    oversized["padding"] = "x" * (1024 * 1024)
    responses = {
        "415": am_post(
            client, json.dumps(am_payload(am_alert("ffff000000000004"))), token=wrong, content_type="text/plain"
        ),
        "413": am_post(client, oversized, token=wrong),
        "400": am_post(client, am_payload(am_alert("ffff000000000005"), version="3"), token=wrong),
    }

    for case, response in responses.items():
        assert error_of(response, 401)["code"] == "unauthorized", case


def test_alert_names_in_alerts_disabled_are_skipped_as_disabled(client: Client, wired: Node) -> None:
    configure(wired, {"alerts": {"disabled": ["Watchdog", "DiskFull"]}})
    payload = am_payload(am_alert("1111000000000001", "HighLatency"), am_alert("1111000000000002", "DiskFull"))

    body = accepted(am_post(client, payload))

    assert started(body) == ["1111000000000001"]
    assert skipped(body) == [("1111000000000002", "disabled")]


def test_a_star_in_alerts_disabled_skips_every_alert_of_every_provider(client: Client, wired: Node) -> None:
    configure(wired, {"alerts": {"disabled": ["*"]}})

    alertmanager = accepted(am_post(client, am_payload(am_alert("2222000000000001"), am_alert("2222000000000002"))))
    pagerduty = accepted(pd_post(client, pd_event("PSTAR01")))
    incidentio = accepted(io_post(client, io_event("01HSTAR0000000000000000001")))

    assert skipped(alertmanager) == [("2222000000000001", "disabled"), ("2222000000000002", "disabled")]
    assert skipped(pagerduty) == [("PSTAR01", "disabled")]
    assert skipped(incidentio) == [("01HSTAR0000000000000000001", "disabled")]
    assert not Investigation.objects.exists()


def test_auto_investigate_off_accepts_the_alert_but_starts_nothing(client: Client, team: Node) -> None:
    configure(team, integrations(auto_investigate=False))

    body = accepted(am_post(client, am_payload(am_alert("3333000000000001"))))

    assert body["received"] == 1
    assert body["investigations"] == []
    assert skipped(body) == [("3333000000000001", "auto_investigate_off")]
    assert not Investigation.objects.exists()


def test_an_alert_whose_run_is_still_active_is_skipped_as_duplicate_with_that_run_id(
    client: Client, wired: Node
) -> None:
    payload = am_payload(am_alert("4444000000000001"))
    first = accepted(am_post(client, payload))
    first_id = first["investigations"][0]["investigation_id"]

    second = accepted(am_post(client, payload))
    Investigation.objects.filter(pk=first_id).update(status=Status.RUNNING)
    third = accepted(am_post(client, payload))

    for repeat in (second, third):
        assert repeat["investigations"] == []
        assert repeat["skipped"] == [
            {"fingerprint": "4444000000000001", "reason": "duplicate", "investigation_id": first_id}
        ]
    assert Investigation.objects.count() == 1


def test_the_same_fingerprint_twice_in_one_payload_starts_one_run(client: Client, wired: Node) -> None:
    body = accepted(am_post(client, am_payload(am_alert("5555000000000001"), am_alert("5555000000000001"))))

    assert body["received"] == 2
    assert started(body) == ["5555000000000001"]
    assert body["skipped"] == [
        {
            "fingerprint": "5555000000000001",
            "reason": "duplicate",
            "investigation_id": body["investigations"][0]["investigation_id"],
        }
    ]


def test_an_alert_whose_earlier_run_finished_starts_a_new_one(client: Client, wired: Node) -> None:
    payload = am_payload(am_alert("6666000000000001"))
    first_id = accepted(am_post(client, payload))["investigations"][0]["investigation_id"]
    Investigation.objects.filter(pk=first_id).update(status=Status.COMPLETED)

    again = accepted(am_post(client, payload))

    assert started(again) == ["6666000000000001"]
    assert again["investigations"][0]["investigation_id"] != first_id


def test_duplicates_are_per_team_and_provider(client: Client, wired: Node, other_team: Node) -> None:
    configure(other_team, integrations())
    fingerprint = "PDUP777"
    alertmanager = accepted(am_post(client, am_payload(am_alert(fingerprint))))
    pagerduty = accepted(pd_post(client, pd_event(fingerprint)))
    other = accepted(am_post(client, am_payload(am_alert(fingerprint)), team_id="team-payments"))

    ids = {body["investigations"][0]["investigation_id"] for body in (alertmanager, pagerduty, other)}
    assert len(ids) == 3
    assert set(Investigation.objects.values_list("trigger_source", "team__node_id")) == {
        ("alertmanager", "team-platform"),
        ("pagerduty", "team-platform"),
        ("alertmanager", "team-payments"),
    }


@pytest.mark.django_db(transaction=True)
def test_the_same_alert_delivered_twice_at_once_starts_exactly_one_run(wired: Node) -> None:
    payload = json.dumps(am_payload(am_alert("7777000000000001")))
    barrier = threading.Barrier(2)
    bodies: list[Any] = [None, None]

    def deliver(index: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            bodies[index] = accepted(am_post(client, payload))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(body is not None for body in bodies), bodies
    runs = list(Investigation.objects.filter(alert_fingerprint="7777000000000001"))
    assert len(runs) == 1
    outcomes = sorted((len(body["investigations"]), [item["reason"] for item in body["skipped"]]) for body in bodies)
    assert outcomes == [(0, ["duplicate"]), (1, [])]
    duplicate = next(body for body in bodies if body["skipped"])
    assert duplicate["skipped"][0]["investigation_id"] == runs[0].pk


def test_alerts_beyond_the_twentieth_in_one_payload_are_skipped_as_limit(client: Client, wired: Node) -> None:
    fingerprints = [f"8888{index:012d}" for index in range(22)]

    body = accepted(am_post(client, am_payload(*(am_alert(fp, f"Alert{i}") for i, fp in enumerate(fingerprints)))))

    assert body["received"] == 22
    assert started(body) == fingerprints[:20]
    assert skipped(body) == [(fingerprints[20], "limit"), (fingerprints[21], "limit")]
    assert Investigation.objects.count() == 20


def test_alert_runs_are_queued_and_use_the_planners_configured_timeout(
    client: Client, wired: Node, django_capture_on_commit_callbacks: Any
) -> None:
    configure(wired, {"agents": {"planner": {"timeout": 120}}})

    with django_capture_on_commit_callbacks(execute=True):
        body = accepted(am_post(client, am_payload(am_alert("9999000000000001"), am_alert("9999000000000002"))))

    runs = Investigation.objects.filter(pk__in=[item["investigation_id"] for item in body["investigations"]])
    assert [run.timeout_seconds for run in runs] == [120, 120]
    queued = [result.args[0] for result in task_backends["default"].results]
    assert sorted(queued) == sorted(run.pk for run in runs)


def test_an_alert_run_is_readable_through_the_agent_api(client: Client, wired: Node, member: ApiCaller) -> None:
    body = accepted(am_post(client, am_payload(am_alert("aaaa111111111111", "HighLatency"))))
    investigation_id = body["investigations"][0]["investigation_id"]

    status = member.get(f"/agents/status/{investigation_id}")

    assert status.status_code == 200
    read = status.json()
    assert (read["status"], read["agent"], read["trigger_source"]) == ("pending", "planner", "alertmanager")
    listed = member.get("/agents/investigations").json()["investigations"]
    assert [item["investigation_id"] for item in listed] == [investigation_id]


# -- PagerDuty ----------------------------------------------------------------------------------------------------
def test_a_signed_pagerduty_incident_triggered_event_starts_an_investigation(client: Client, wired: Node) -> None:
    event = pd_event("PGR0VU2", urgency="high", title="Checkout error rate above 5%", service="checkout-api")

    body = accepted(pd_post(client, event))

    assert body["received"] == 1
    assert started(body) == ["PGR0VU2"]
    run = Investigation.objects.get(pk=body["investigations"][0]["investigation_id"])
    assert (run.agent, run.trigger_source, run.alert_fingerprint) == ("planner", "pagerduty", "PGR0VU2")
    assert run.message.startswith("PagerDuty incident triggered")
    assert "Checkout error rate above 5%" in run.message
    assert set(run.context) >= CONTEXT_KEYS
    assert run.context["source"] == "pagerduty"
    assert run.context["related_alert"] == "PGR0VU2"
    assert run.context["service"] == "checkout-api"
    assert run.context["severity"] == "high"
    assert run.context["alert"] == event["event"]


def test_one_matching_value_among_several_pagerduty_signatures_is_enough(client: Client, wired: Node) -> None:
    raw = json.dumps(pd_event("PMULTI1"))
    signature = f"v1={'0' * 64},{pd_signature(raw)}, v1={'f' * 64}"

    body = accepted(pd_post(client, raw, signature=signature))

    assert started(body) == ["PMULTI1"]


def test_a_pagerduty_signature_by_another_secret_or_over_another_body_or_missing_gives_the_same_401(
    client: Client, wired: Node
) -> None:
    raw = json.dumps(pd_event("PBAD001"))
    responses = {
        "another secret": pd_post(client, raw, secret="pd-secret-not-ours"),
        "another body": pd_post(client, raw, signature=pd_signature(raw.replace("PBAD001", "PBAD002"))),
        "bare hex": pd_post(client, raw, signature=pd_signature(raw).removeprefix("v1=")),
        "missing": send(client, "pagerduty", raw, {}),
    }

    assert_refused_alike(client, responses)


@pytest.mark.parametrize("event_type", ["incident.acknowledged", "incident.resolved", "incident.annotated"])
def test_pagerduty_events_other_than_incident_triggered_are_skipped_as_ignored_event(
    client: Client, wired: Node, event_type: str
) -> None:
    body = accepted(pd_post(client, pd_event("PIGN001", event_type=event_type)))

    assert body["received"] == 1
    assert body["investigations"] == []
    assert skipped(body) == [("PIGN001", "ignored_event")]


def test_pagerduty_urgency_sets_the_severity_and_the_high_filter_skips_low_urgency(
    client: Client, team: Node, other_team: Node
) -> None:
    configure(team, integrations())
    high_only = {"enabled": True, "webhook_secret": {"secret": PD_SECRET}, "urgency_filter": "high"}
    configure(other_team, {"integrations": {"pagerduty": high_only}})

    low = accepted(pd_post(client, pd_event("PLOW001", urgency="low")))
    filtered = accepted(pd_post(client, pd_event("PLOW002", urgency="low"), team_id="team-payments"))
    high = accepted(pd_post(client, pd_event("PHIGH01", urgency="high"), team_id="team-payments"))

    assert Investigation.objects.get(pk=low["investigations"][0]["investigation_id"]).context["severity"] == "low"
    assert filtered["investigations"] == []
    assert skipped(filtered) == [("PLOW002", "filtered")]
    assert started(high) == ["PHIGH01"]


# -- incident.io --------------------------------------------------------------------------------------------------
def test_a_signed_incidentio_incident_created_event_starts_an_investigation(client: Client, wired: Node) -> None:
    event = io_event("01HQ7Z5V3K2M8N4P6R9T0W1X2Y", severity="Major", name="Database is sad")

    body = accepted(io_post(client, event))

    assert body["received"] == 1
    assert started(body) == ["01HQ7Z5V3K2M8N4P6R9T0W1X2Y"]
    run = Investigation.objects.get(pk=body["investigations"][0]["investigation_id"])
    assert (run.agent, run.trigger_source, run.alert_fingerprint) == (
        "planner",
        "incidentio",
        "01HQ7Z5V3K2M8N4P6R9T0W1X2Y",
    )
    assert "Database is sad" in run.message
    assert set(run.context) >= CONTEXT_KEYS - {"service"}  # §7 names no service source for incident.io
    assert run.context["source"] == "incidentio"
    assert run.context["related_alert"] == "01HQ7Z5V3K2M8N4P6R9T0W1X2Y"
    assert run.context["severity"] == "high"
    assert run.context["alert"] == event


def test_an_incidentio_timestamp_more_than_five_minutes_off_is_a_401_even_when_correctly_signed(
    client: Client, wired: Node
) -> None:
    now = datetime.now(UTC)
    stale = io_post(client, io_event("01HOLD00000000000000000001"), at=now - timedelta(minutes=6))
    future = io_post(client, io_event("01HNEW00000000000000000001"), at=now + timedelta(minutes=6))
    recent = io_post(client, io_event("01HREC00000000000000000001"), at=now - timedelta(minutes=4))

    assert error_of(stale, 401)["code"] == "unauthorized"
    assert error_of(future, 401)["code"] == "unauthorized"
    assert started(accepted(recent)) == ["01HREC00000000000000000001"]
    assert Investigation.objects.count() == 1


def test_an_incidentio_signature_by_another_secret_or_without_headers_is_a_401(client: Client, wired: Node) -> None:
    raw = json.dumps(io_event("01HBAD00000000000000000001"))
    other_secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="
    responses = {
        "another secret": send(client, "incidentio", raw, io_headers(raw, secret=other_secret)),
        "another body": send(client, "incidentio", raw, io_headers(raw.replace("01HBAD", "01HBAE"))),
        "missing": send(client, "incidentio", raw, {}),
    }

    assert_refused_alike(client, responses)


def test_incidentio_events_other_than_incident_created_are_skipped_as_ignored_event(
    client: Client, wired: Node
) -> None:
    body = accepted(
        io_post(client, io_event("01HUPD00000000000000000001", event_type="public_incident.incident_updated_v2"))
    )

    assert body["received"] == 1
    assert body["investigations"] == []
    assert [item["reason"] for item in body["skipped"]] == ["ignored_event"]


@pytest.mark.parametrize(
    ("threshold", "severity", "starts"),
    [
        ("low", "Low", True),
        ("medium", "Minor", True),
        ("medium", "Low", False),
        ("high", "Minor", False),
        ("high", "Critical", True),
    ],
)
def test_an_incidentio_severity_below_the_threshold_is_skipped_as_filtered(
    client: Client, team: Node, threshold: str, severity: str, starts: bool
) -> None:
    configure(team, integrations())
    configure(team, {"integrations": {"incidentio": {"severity_threshold": threshold}}})

    body = accepted(io_post(client, io_event("01HSEV00000000000000000001", severity=severity)))

    if starts:
        assert started(body) == ["01HSEV00000000000000000001"]
    else:
        assert body["investigations"] == []
        assert skipped(body) == [("01HSEV00000000000000000001", "filtered")]


# -- bodies, routes, rate limits, headers -------------------------------------------------------------------------
def test_a_body_over_one_mebibyte_is_a_413(client: Client, wired: Node) -> None:
    payload = am_payload(am_alert("bbbb111111111111"))
    payload["padding"] = "x" * (1024 * 1024)

    response = am_post(client, payload)

    assert error_of(response, 413)["code"] == "payload_too_large"
    assert not Investigation.objects.exists()


def test_a_body_that_is_not_a_json_object_is_a_400(client: Client, wired: Node) -> None:
    not_json = "alertname=HighLatency"
    responses = [
        am_post(client, not_json),
        am_post(client, "[]"),
        pd_post(client, not_json),
        send(client, "incidentio", not_json, io_headers(not_json)),
    ]

    for response in responses:
        assert error_of(response, 400)["code"] == "invalid_request"
    assert not Investigation.objects.exists()


def test_a_body_not_sent_as_json_is_a_415(client: Client, wired: Node) -> None:
    raw = json.dumps(am_payload(am_alert("cccc111111111111")))

    response = am_post(client, raw, content_type="text/plain")

    assert error_of(response, 415)["code"] == "unsupported_media_type"
    assert not Investigation.objects.exists()


def test_unknown_providers_are_a_404_and_other_methods_a_405(client: Client, wired: Node) -> None:
    unknown = send(client, "datadog", "{}", {"Authorization": f"Bearer {AM_TOKEN}"})
    get = client.get(url("alertmanager"), headers={"Authorization": f"Bearer {AM_TOKEN}"})

    assert error_of(unknown, 404)["code"] == "not_found"
    assert error_of(get, 405)["code"] == "method_not_allowed"
    assert "POST" in get.headers["Allow"]


def test_the_integration_bucket_counts_per_team_and_provider_and_the_next_request_is_a_429(
    client: Client, org: Organization, wired: Node, other_team: Node
) -> None:
    org.rate_limits = {"integration": 3}
    org.save()
    configure(other_team, integrations())

    with time_machine.travel(1_705_318_218.5, tick=False):
        responses = [am_post(client, am_payload(am_alert(f"dddd11111111111{index}"))) for index in range(4)]
        pagerduty = pd_post(client, pd_event("PRATE01"))
        other = am_post(client, am_payload(am_alert("dddd111111111119")), team_id="team-payments")

    assert [response.status_code for response in responses] == [202, 202, 202, 429]
    first = responses[0]
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("3", "2")
    assert first["X-RateLimit-Reset"] == "1705318260"
    refused = responses[3]
    assert refused["Retry-After"] == "42"
    assert refused["X-RateLimit-Remaining"] == "0"
    error = error_of(refused, 429)
    assert (error["code"], error["retry_after"]) == ("rate_limited", 42)
    assert accepted(pagerduty)["investigations"]
    assert accepted(other)["investigations"]
    assert Investigation.objects.filter(team=wired, trigger_source="alertmanager").count() == 3


def test_every_response_has_a_request_id_and_no_response_reveals_a_secret(client: Client, wired: Node) -> None:
    responses = [
        am_post(client, am_payload(am_alert("eeee111111111111")), headers={"X-Request-ID": "am-delivery-1"}),
        am_post(client, am_payload(am_alert("eeee111111111112"), version="3")),
        am_post(client, am_payload(am_alert("eeee111111111113")), token="wrong"),
        pd_post(client, pd_event("PSECRET1")),
        pd_post(client, pd_event("PSECRET2"), secret="wrong"),
        io_post(client, io_event("01HSEC00000000000000000001")),
        send(client, "incidentio", "{}", {}),
    ]

    assert responses[0]["X-Request-ID"] == "am-delivery-1"
    assert [response.status_code for response in responses] == [202, 400, 401, 202, 401, 202, 401]
    for response in responses:
        assert response["X-Request-ID"]
        assert response["Content-Type"].startswith("application/json")
        for secret in SECRETS:
            assert secret not in response.content.decode(), secret
    for run in Investigation.objects.all():
        stored = json.dumps(run.context) + run.message
        assert not any(secret in stored for secret in (AM_TOKEN, PD_SECRET, IO_SECRET))


def test_an_alert_run_is_scoped_to_the_alerts_namespace_and_description_and_reaches_back_to_its_start(
    client: Client, wired: Node
) -> None:
    alert = am_alert("8888000000000001", summary="p99 above 2s")
    alert["annotations"]["description"] = "payments-api p99 latency has been above 2s for 10 minutes."
    alert["startsAt"] = (datetime.now(UTC) - timedelta(hours=8)).isoformat().replace("+00:00", ".123456789Z")
    run_id = accepted(am_post(client, am_payload(alert)))["investigations"][0]["investigation_id"]

    context = Investigation.objects.get(pk=run_id).context
    assert context["namespace"] == "payments"
    assert context["hint"] == "payments-api p99 latency has been above 2s for 10 minutes."
    minutes = int(context["time_window"].removesuffix("m"))
    assert 8 * 60 + 15 <= minutes <= 8 * 60 + 17  # since the alert began, plus 15 minutes of lead-up


def test_a_recent_alert_keeps_the_engines_default_look_back() -> None:
    now = datetime.now(UTC)
    assert time_window_for(now - timedelta(minutes=5), now) is None
    assert time_window_for(None, now) is None
    assert time_window_for(now - timedelta(days=90), now) == f"{30 * 24 * 60}m"
    assert ENGINE_DEFAULT_LOOKBACK == DEFAULT_WINDOW  # alerts only ever widen the engine's own window


def test_a_payload_of_several_alerts_reads_the_teams_config_once(client: Client, wired: Node) -> None:
    payload = am_payload(*(am_alert(f"9999{index:012d}") for index in range(5)))
    with CaptureQueriesContext(connection) as queries:
        body = accepted(am_post(client, payload))
    assert len(body["investigations"]) == 5
    config_reads = [query for query in queries.captured_queries if "teamconfig_nodeconfig" in query["sql"]]
    assert len(config_reads) == 1
