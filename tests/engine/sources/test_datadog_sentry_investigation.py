"""End to end: an investigation over Datadog and Sentry (loopback stand-ins, real clients) names the deploy that
introduced a new error as the cause, quoting the Sentry issue and the Datadog deploy event verbatim."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine import InvestigationContext, InvestigationRequest, investigate
from engine.analysis_context import AnalysisContext
from engine.analyzers import error_tracking
from engine.facts import ChangeFact, ErrorIssueFact, Observations
from tests.engine.part2.replay_server import Seen, replay_server

from . import recorded

NOW = datetime(2024, 1, 15, 14, 40, tzinfo=UTC)


def _routes() -> dict[tuple[str, str], Any]:
    def metrics(seen: Seen) -> tuple[int, object, dict[str, str]]:
        return 200, recorded.metrics_query(seen.query["query"][0]), {}

    return {
        ("GET", "/api/v1/monitor"): lambda seen: (200, recorded.MONITORS, {}),
        ("GET", "/api/v1/query"): metrics,
        ("GET", "/api/v1/events"): lambda seen: (200, recorded.EVENTS, {}),
        ("POST", "/api/v2/logs/events/search"): lambda seen: (200, recorded.LOG_PAGES[1], {}),
        ("GET", "/api/0/projects/acme/payments/issues/"): lambda seen: (
            200,
            [recorded.SENTRY_NEW, recorded.SENTRY_OLD],
            {},
        ),
    }


def _request(url: str, **sources: dict[str, Any]) -> InvestigationRequest:
    return InvestigationRequest(
        message="payments is failing charges since about 14:10",
        context=InvestigationContext(service="payments", time_window="2h"),
        data_sources={
            "datadog": {"enabled": True, "api_key": "dd-api-key-0001", "app_key": "dd-app-key-0002", "base_url": url},
            "sentry": {"enabled": True, "token": "sntrys_token_0003", "organization": "acme", "base_url": url},
            **sources,
        },
        secrets=["dd-api-key-0001", "dd-app-key-0002", "sntrys_token_0003"],
        now=NOW,
    )


def test_a_new_sentry_error_right_after_a_datadog_deploy_event_is_named_as_the_cause_with_both_quoted() -> None:
    with replay_server(_routes()) as srv:
        report = investigate(_request(srv.url))
    tools = [call.tool for call in report.tool_calls]
    assert {"get_datadog_monitors", "query_datadog_metrics", "list_datadog_events", "list_sentry_issues"} <= set(tools)
    assert all(call.ok for call in report.tool_calls), [c.error for c in report.tool_calls if not c.ok]
    cause = report.root_cause
    assert "Deployed payments v2.14.0 to prod" in cause.description
    assert "KeyError: 'currency' (in payments.charge in capture)" in cause.description
    assert cause.confidence >= 70
    assert any(e.startswith("[tool:list_sentry_issues] PAYMENTS-3F KeyError: 'currency'") for e in cause.evidence)
    assert any(
        e.startswith("[tool:list_datadog_events] 2024-01-15T14:05:00Z Deployed payments") for e in cause.evidence
    )
    assert report.recommendations[0].action == "Roll back payments to the release before v2.14.0"
    every_request = [seen.headers for seen in srv.seen]
    assert all("sntrys_token_0003" not in str(call.model_dump()) for call in report.tool_calls)
    assert any(h.get("DD-API-KEY") == "dd-api-key-0001" for h in every_request)


def test_with_datadog_refusing_its_keys_the_investigation_still_reports_from_sentry_and_says_why() -> None:
    routes = {**_routes(), ("GET", "/api/v1/monitor"): lambda seen: (403, {"errors": ["Forbidden"]}, {})}
    with replay_server(routes) as srv:
        report = investigate(_request(srv.url))
    [failed] = [call for call in report.tool_calls if not call.ok]
    assert failed.tool == "get_datadog_monitors"
    assert failed.error == "Datadog refused the API or application key (403 Forbidden) for monitors"
    assert "KeyError: 'currency'" in report.root_cause.description
    assert "Deployed payments v2.14.0" in report.root_cause.description, "events are read with the same keys"


def _issue(first_seen: datetime) -> ErrorIssueFact:
    return ErrorIssueFact(
        tracker="Sentry",
        issue_id="1",
        service="payments",
        title="KeyError: 'currency'",
        error_type="KeyError",
        error_value="'currency'",
        culprit="payments.charge in capture",
        first_seen=first_seen,
        count=3,
        cite="[tool:list_sentry_issues] PAYMENTS-1 KeyError: 'currency'",
    )


def _deploy(at: datetime, service: str = "payments") -> ChangeFact:
    return ChangeFact(timestamp=at, kind="deploy", service=service, description=f"{service} deployed", ref="v2")


def _ctx() -> AnalysisContext:
    from datetime import timedelta

    return AnalysisContext(now=NOW, window=timedelta(hours=2), service="payments")


def test_a_new_error_long_after_the_deploy_or_of_another_service_is_only_a_symptom() -> None:
    first = datetime(2024, 1, 15, 14, 8, tzinfo=UTC)
    for change in (_deploy(datetime(2024, 1, 15, 13, 0, tzinfo=UTC)), _deploy(first, service="checkout")):
        [finding] = error_tracking.analyze(Observations(issues=[_issue(first)], changes=[change]), _ctx())
        assert (finding.kind, finding.role) == ("new_error", "symptom")


def test_an_issue_first_seen_before_the_window_is_history() -> None:
    old = _issue(datetime(2023, 12, 1, tzinfo=UTC))
    assert (
        error_tracking.analyze(Observations(issues=[old], changes=[_deploy(datetime(2023, 12, 1, tzinfo=UTC))]), _ctx())
        == []
    )


def test_the_latest_change_shortly_before_the_first_occurrence_is_the_cause() -> None:
    first = datetime(2024, 1, 15, 14, 8, tzinfo=UTC)
    changes = [_deploy(datetime(2024, 1, 15, 13, 50, tzinfo=UTC)), _deploy(datetime(2024, 1, 15, 14, 1, tzinfo=UTC))]
    [finding] = error_tracking.analyze(Observations(issues=[_issue(first)], changes=changes), _ctx())
    assert (finding.kind, finding.role, finding.timestamp) == (
        "error_after_change",
        "cause",
        datetime(2024, 1, 15, 14, 1, tzinfo=UTC),
    )
    assert "7 min later a new Sentry error appeared in payments: KeyError: 'currency'" in finding.title


def test_the_demo_source_stands_in_for_neither_datadog_nor_sentry_so_a_demo_run_never_calls_them() -> None:
    request = InvestigationRequest(
        message="checkout errors are up", context=InvestigationContext(service="checkout"), data_sources={"demo": {}}
    )
    report = investigate(request)
    assert report.tool_calls
    assert not [call.tool for call in report.tool_calls if "datadog" in call.tool or "sentry" in call.tool]


def test_the_log_analysis_agent_investigates_from_datadog_logs_alone_and_quotes_the_refused_connection() -> None:
    lines = [
        recorded.log_event(f"AQ{i}", f"2024-01-15T14:{10 + i:02d}:00.000Z", "error", message)
        for i, message in enumerate(
            [
                "could not connect to server: Connection refused. Is the server running on host "
                '"ledger-db" (10.0.3.7) and accepting TCP/IP connections on port 5432?',
                "charge failed: could not connect to ledger-db:5432: Connection refused",
                "could not connect to ledger-db:5432: Connection refused",
            ]
        )
    ]
    page = recorded.logs_page(lines, None)
    with replay_server({("POST", "/api/v2/logs/events/search"): lambda seen: (200, page, {})}) as srv:
        request = _request(srv.url)
        report = investigate(request.model_copy(update={"agent": "log_analysis_agent"}))
    assert [call.tool for call in report.tool_calls] == ["extract_log_signatures", "get_log_statistics"]
    assert all(call.ok for call in report.tool_calls)
    assert srv.seen[0].body["filter"]["query"].startswith("service:payments (status:(error")
    assert "could not connect to server" in report.root_cause.description
    [quoted] = [e for e in report.root_cause.evidence if e.startswith("[tool:extract_log_signatures]")]
    assert 'Is the server running on host "ledger-db" (10.0.3.7)' in quoted
