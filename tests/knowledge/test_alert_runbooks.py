"""An alert from Alertmanager starts an investigation that cites the team's runbook of that alert by its name
(the webhook's ``related_alert`` is the provider's fingerprint; the name travels as ``alert_name``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from investigations.models import Investigation, Status
from tests.alerts.conftest import am_alert, am_payload, am_post, configure, integrations
from tests.knowledge.conftest import teach

HIGH_LATENCY = """# HighLatency

## Meaning
p99 latency of the service is above 2 s for 5 minutes: users wait, checkouts time out.

## Mitigation
- Scale the service out by two replicas
- Look for a slow dependency in the traces
"""


@pytest.fixture(autouse=True)
def _encryption_key(settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "kb-alert-test-key-material-0123456789"}


@pytest.mark.django_db(transaction=True)
def test_an_alertmanager_alert_is_explained_by_the_teams_runbook_of_that_alert(team) -> None:
    configure(team, integrations())
    runbook = teach(team, HIGH_LATENCY, tags=["HighLatency"]).document

    response = am_post(Client(), am_payload(am_alert("3f2a9c1d7b6e8f00", "HighLatency", service="payments-api")))

    assert response.status_code == 202, response.content
    run = Investigation.objects.get(pk=response.json()["investigations"][0]["investigation_id"])
    assert run.status == Status.COMPLETED, run.error_message
    assert run.result is not None
    evidence = run.result["root_cause"]["evidence"]
    assert any(
        line.startswith(
            f'[tool:kb_retrieve] Runbook "HighLatency" ({runbook.document_id}), the runbook of alert HighLatency'
        )
        for line in evidence
    ), evidence
    actions = [rec["action"] for rec in run.result["recommendations"]]
    assert f"Scale the service out by two replicas (runbook: HighLatency, {runbook.document_id})" in actions
    assert "kb_retrieve" in run.tools_used
