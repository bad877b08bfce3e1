"""The engine consults the team's knowledge base through the retriever its caller passes in (Django-free)."""

from __future__ import annotations

from engine import Attachment, InvestigationContext, InvestigationRequest, KnowledgePassage, investigate

ORDERS_LOG = """2024-01-15T14:29:00Z INFO  Started OrdersApplication in 12.3 seconds
2024-01-15T14:31:07Z ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms.
2024-01-15T14:31:08Z ERROR HikariPool-1 - Connection is not available, request timed out after 30001ms.
2024-01-15T14:31:09Z ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms.
"""
ALERT_RUNBOOK = KnowledgePassage(
    document_id="kb_alert00000000000000",
    title="OrdersApiHighLatency",
    heading="OrdersApiHighLatency › Meaning",
    passage="The orders API answers slower than 2 s at p99. Usually its connection pool is exhausted.",
    score=1.2,
    service="orders-api",
    type="runbook",
    remediation=["Raise the orders-api pool size to 40", "Check orders-db max_connections"],
)
POSTMORTEM = KnowledgePassage(
    document_id="kb_pm000000000000000000",
    title="Postmortem 2026-11-03: orders-api: Database connection pool exhausted",
    heading="Postmortem 2026-11-03 › Root cause",
    passage="orders-api: Database connection pool exhausted (41 log lines). Connection is not available, request "
    "timed out after 30000ms.",
    score=0.9,
    service="orders-api",
    type="postmortem",
    date="2026-11-03",
)


def _request(alert: str | None = "OrdersApiHighLatency", **extra: str) -> InvestigationRequest:
    return InvestigationRequest(
        message="orders api p99 latency spiking",
        context=InvestigationContext(
            service="orders-api",
            related_alert=alert,
            attachments=[Attachment(name="orders.log", content=ORDERS_LOG)],
            **extra,
        ),
    )


def _retriever(*passages: KnowledgePassage, seen: list[tuple[str, str | None, int]] | None = None):
    def retrieve(query: str, service: str | None, top_k: int) -> list[KnowledgePassage]:
        if seen is not None:
            seen.append((query, service, top_k))
        return list(passages)

    return retrieve


def test_without_a_retriever_the_report_is_unchanged_and_kb_retrieve_never_runs() -> None:
    report = investigate(_request())

    assert "kb_retrieve" not in report.tools_used


def test_the_alerts_runbook_is_cited_and_its_steps_follow_the_datas_recommendations() -> None:
    plain = investigate(_request())
    seen: list[tuple[str, str | None, int]] = []

    report = investigate(_request(), knowledge=_retriever(ALERT_RUNBOOK, seen=seen))

    assert seen[0][0] == "OrdersApiHighLatency"
    assert all(service == "orders-api" for _, service, _ in seen)
    assert report.tools_used[-1] == "kb_retrieve"
    assert report.root_cause.description == plain.root_cause.description
    assert report.root_cause.confidence == plain.root_cause.confidence
    assert report.root_cause.evidence[: len(plain.root_cause.evidence)] == plain.root_cause.evidence
    assert report.root_cause.evidence[-1].startswith(
        '[tool:kb_retrieve] Runbook "OrdersApiHighLatency" (kb_alert00000000000000), the runbook of alert'
    )
    actions = [rec.action for rec in report.recommendations]
    assert actions[: len(plain.recommendations)] == [rec.action for rec in plain.recommendations]
    assert "Raise the orders-api pool size to 40 (runbook: OrdersApiHighLatency, kb_alert00000000000000)" in actions


def test_an_earlier_postmortem_of_the_same_failure_is_cited_with_its_date() -> None:
    report = investigate(_request(alert=None), knowledge=_retriever(POSTMORTEM))

    cited = [line for line in report.root_cause.evidence if line.startswith("[tool:kb_retrieve]")]
    assert cited == [
        '[tool:kb_retrieve] This looked the same on 2026-11-03: Postmortem "Postmortem 2026-11-03: orders-api: '
        'Database connection pool exhausted" (kb_pm000000000000000000) recorded: orders-api: Database connection '
        "pool exhausted (41 log lines). Connection is not available, request timed out after 30000ms."
    ]


def test_a_passage_about_another_failure_or_service_is_not_cited() -> None:
    unrelated = ALERT_RUNBOOK.model_copy(
        update={"title": "DiskFull", "heading": "DiskFull", "passage": "The volume is full.", "service": "search"}
    )
    other_service_postmortem = POSTMORTEM.model_copy(update={"service": "billing-api"})

    report = investigate(_request(), knowledge=_retriever(unrelated, other_service_postmortem))

    assert "kb_retrieve" in report.tools_used
    assert not [line for line in report.root_cause.evidence if "kb_retrieve" in line]
    assert not [rec for rec in report.recommendations if "runbook:" in rec.action]


def test_a_failing_knowledge_base_is_a_failed_tool_call_not_a_failed_investigation() -> None:
    def broken(query: str, service: str | None, top_k: int) -> list[KnowledgePassage]:
        raise ConnectionError("database is gone")

    report = investigate(_request(), knowledge=broken)

    calls = [call for call in report.tool_calls if call.tool == "kb_retrieve"]
    assert calls
    assert all(not call.ok for call in calls)
    assert calls[0].error == "The knowledge base could not be searched (ConnectionError)"
    assert report.root_cause.confidence >= 50


def test_an_alert_webhooks_alert_name_is_searched_rather_than_its_fingerprint() -> None:
    request = _request(alert="3f2a9c1d7b6e8f00", alert_name="OrdersApiHighLatency")
    seen: list[tuple[str, str | None, int]] = []

    report = investigate(request, knowledge=_retriever(ALERT_RUNBOOK, seen=seen))

    assert seen[0][0] == "OrdersApiHighLatency"
    assert any("the runbook of alert OrdersApiHighLatency" in line for line in report.root_cause.evidence)
