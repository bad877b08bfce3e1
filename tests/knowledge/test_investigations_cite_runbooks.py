"""Investigations consult the team's knowledge base: a runbook explains the finding and adds its remediation
steps, never overriding the evidence; a saved postmortem is found by the next investigation of the service."""

from __future__ import annotations

from typing import Any

import pytest

from investigations.models import InvestigationStep
from knowledge.models import KnowledgeQuery

ORDERS_LOG = """2024-01-15T14:29:00Z INFO  Started OrdersApplication in 12.3 seconds
2024-01-15T14:31:07Z WARN  HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=1m2s).
2024-01-15T14:31:07Z ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms.
2024-01-15T14:31:08Z ERROR HikariPool-1 - Connection is not available, request timed out after 30001ms.
2024-01-15T14:31:09Z ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms.
"""
LATENCY_RUNBOOK = """# OrdersApiHighLatency

## Meaning
The orders API answers slower than 2 s at p99 for 5 minutes. Most often the database connection pool of
orders-api is exhausted and requests queue for a connection.

## Mitigation
- Raise spring.datasource.hikari.maximum-pool-size for orders-api from 20 to 40
- Check the orders-db max_connections before raising the pool
"""
RUN: dict[str, Any] = {
    "agent_name": "planner",
    "message": "orders api p99 latency spiking",
    "context": {
        "service": "orders-api",
        "related_alert": "OrdersApiHighLatency",
        "attachments": [{"name": "orders.log", "content": ORDERS_LOG}],
    },
}


def _run(member) -> dict[str, Any]:
    response = member.post("/agents/run", RUN)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed", body
    return body


@pytest.mark.django_db(transaction=True)
def test_the_alerts_runbook_is_cited_and_its_steps_join_the_recommendations(member) -> None:
    before = _run(member)["result"]
    taught = member.post(
        "/kb/teach", {"content": LATENCY_RUNBOOK, "type": "runbook", "service": "orders-api", "tags": ["latency"]}
    ).json()

    body = _run(member)
    result = body["result"]

    assert "kb_retrieve" in body["tools_used"]
    assert "kb_retrieve" not in str(before)
    cited = [line for line in result["root_cause"]["evidence"] if line.startswith("[tool:kb_retrieve]")]
    assert len(cited) == 1
    assert (
        f'Runbook "OrdersApiHighLatency" ({taught["document_id"]}), the runbook of alert OrdersApiHighLatency'
        in (cited[0])
    )
    # The runbook explains the evidence; it does not replace it.
    assert result["root_cause"]["description"] == before["root_cause"]["description"]
    assert result["root_cause"]["confidence"] == before["root_cause"]["confidence"]
    assert result["root_cause"]["evidence"][: len(before["root_cause"]["evidence"])] == before["root_cause"]["evidence"]
    actions = [rec["action"] for rec in result["recommendations"]]
    step = (
        "Raise spring.datasource.hikari.maximum-pool-size for orders-api from 20 to 40 "
        f"(runbook: OrdersApiHighLatency, {taught['document_id']})"
    )
    assert step in actions
    assert step not in [rec["action"] for rec in before["recommendations"]]
    assert actions[: len(before["recommendations"])] == [rec["action"] for rec in before["recommendations"]]
    steps = InvestigationStep.objects.filter(investigation_id=body["investigation_id"], tool="kb_retrieve")
    assert steps.count() >= 2  # the alert, the subject and the top hypothesis
    assert steps.first().params["query"] == "OrdersApiHighLatency"
    assert KnowledgeQuery.objects.filter(investigation_id=body["investigation_id"]).count() == steps.count()


@pytest.mark.django_db(transaction=True)
def test_a_runbook_of_another_service_is_not_cited(member) -> None:
    member.post(
        "/kb/teach",
        {
            "content": LATENCY_RUNBOOK.replace("OrdersApiHighLatency", "SearchSlow"),
            "type": "runbook",
            "service": "search",
        },
    )

    result = _run(member)["result"]

    assert not [line for line in result["root_cause"]["evidence"] if line.startswith("[tool:kb_retrieve]")]
    assert not [rec for rec in result["recommendations"] if "runbook:" in rec["action"]]
