"""Inbound alert webhooks (API.md §7): team secrets, payload builders in each provider's real shape, and signers.

Tasks go to Django's dummy backend here, so an investigation started by an alert stays ``pending`` (the duplicate
rule needs an active run) and every queued task can be counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from ops.queues import TASK_QUEUES
from teamconfig.services import ConfigApplied, config_update
from tenancy.audit import RequestMeta
from tenancy.models import Node

ORG = "org-acme"
TEAM = "team-platform"
AM_TOKEN = "am-bearer-7f3c9e1a2b4d6f80"
PD_SECRET = "pd-secret-4b8e2d9c0a1f3e57"
IO_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
SECRETS = (AM_TOKEN, PD_SECRET, IO_SECRET, IO_SECRET.removeprefix("whsec_"))


@pytest.fixture(autouse=True)
def _alert_settings(_test_settings: None, settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "alerts-test-key-material-0123456789"}
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": TASK_QUEUES}}


def configure(node: Node, patch: dict[str, Any]) -> None:
    """Write ``patch`` to the node's config as an org admin (no approval step)."""
    outcome = config_update(node=node, patch=patch, meta=RequestMeta(actor="ifa_testadmin0000"), admin=True)
    assert isinstance(outcome, ConfigApplied)


def integrations(
    *, am_token: str = AM_TOKEN, pd_secret: str = PD_SECRET, io_secret: str = IO_SECRET, **extra: Any
) -> dict[str, Any]:
    """A config patch that enables all three providers with the given secrets."""
    return {
        "integrations": {
            "alertmanager": {"enabled": True, "bearer_token": {"secret": am_token}, **extra},
            "pagerduty": {"enabled": True, "webhook_secret": {"secret": pd_secret}, **extra},
            "incidentio": {"enabled": True, "webhook_secret": {"secret": io_secret}, **extra},
        }
    }


@pytest.fixture
def wired(team: Node) -> Node:
    """Team ``org-acme/team-platform`` with alertmanager, pagerduty and incident.io enabled."""
    configure(team, integrations())
    return team


# -- payloads ---------------------------------------------------------------------------------------------------
def am_alert(
    fingerprint: str,
    name: str = "HighLatency",
    *,
    status: str = "firing",
    severity: str | None = "critical",
    service: str | None = "payments-api",
    job: str | None = None,
    summary: str = "p99 latency above 2s on payments-api",
) -> dict[str, Any]:
    labels = {"alertname": name, "namespace": "payments"}
    if severity is not None:
        labels["severity"] = severity
    if service is not None:
        labels["service"] = service
    if job is not None:
        labels["job"] = job
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": summary, "runbook_url": "https://runbooks.acme.com/high-latency"},
        "startsAt": "2024-01-15T14:31:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-01-15T14:50:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=latency",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts: dict[str, Any], version: str | None = "4") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "receiver": "incidentfox",
        "status": "firing",
        "alerts": list(alerts),
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
    }
    if version is not None:
        payload["version"] = version
    return payload


def pd_event(
    incident_id: str = "PGR0VU2",
    *,
    event_type: str = "incident.triggered",
    urgency: str = "high",
    title: str = "Checkout error rate above 5%",
    service: str = "checkout-api",
) -> dict[str, Any]:
    return {
        "event": {
            "id": "01DEN4HPBQAN9YL8EYAUHY3QXU",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2024-01-15T14:45:22.169Z",
            "agent": None,
            "client": None,
            "data": {
                "id": incident_id,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident_id}",
                "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
                "number": 2,
                "status": "triggered",
                "title": title,
                "urgency": urgency,
                "service": {"id": "PF9KMXH", "summary": service, "type": "service_reference"},
                "priority": None,
            },
        }
    }


def io_event(
    incident_id: str = "01FDAG4SAP5TYPT98WGR2N7W91",
    *,
    event_type: str = "public_incident.incident_created_v2",
    severity: str = "Major",
    name: str = "Database is sad",
) -> dict[str, Any]:
    return {
        "event_type": event_type,
        event_type: {
            "id": incident_id,
            "name": name,
            "reference": "INC-123",
            "severity": {"id": "01FCNDV6P870EA6S7TK1DSYDG0", "name": severity, "rank": 1},
            "summary": "Our primary database stopped accepting writes.",
            "status": "triage",
            "permalink": f"https://app.incident.io/incidents/{incident_id}",
        },
    }


# -- senders ------------------------------------------------------------------------------------------------------
def url(provider: str, org_id: str = ORG, team_id: str = TEAM) -> str:
    return f"/api/v1/integrations/{provider}/{org_id}/{team_id}"


def _raw(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body)


def send(
    client: Client,
    provider: str,
    raw: str | bytes,
    headers: dict[str, str],
    *,
    org_id: str = ORG,
    team_id: str = TEAM,
    content_type: str = "application/json",
) -> Any:
    return client.post(url(provider, org_id, team_id), raw, content_type=content_type, headers=headers)


def am_post(client: Client, body: Any, *, token: str | None = AM_TOKEN, **options: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    headers.update(options.pop("headers", {}))
    return send(client, "alertmanager", _raw(body), headers, **options)


def pd_signature(raw: str | bytes, secret: str = PD_SECRET) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return "v1=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def pd_post(client: Client, body: Any, *, secret: str = PD_SECRET, signature: str | None = None, **options: Any) -> Any:
    raw = _raw(body)
    headers = {"X-PagerDuty-Signature": signature if signature is not None else pd_signature(raw, secret)}
    headers.update(options.pop("headers", {}))
    return send(client, "pagerduty", raw, headers, **options)


def io_headers(raw: str, *, secret: str = IO_SECRET, at: datetime | None = None) -> dict[str, str]:
    when = at or datetime.now(UTC)
    msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, raw),
    }


def io_post(client: Client, body: Any, *, secret: str = IO_SECRET, at: datetime | None = None, **options: Any) -> Any:
    raw = _raw(body)
    headers = io_headers(raw, secret=secret, at=at)
    headers.update(options.pop("headers", {}))
    return send(client, "incidentio", raw, headers, **options)
