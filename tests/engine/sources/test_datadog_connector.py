"""Datadog through the official datadog-api-client against a loopback server speaking Datadog's HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.connectors import ToolFailure
from engine.connectors import datadog as dd
from engine.connectors.log_analysis import get_log_statistics
from engine.connectors.loki import search_logs
from tests.engine.part2.replay_server import Seen, replay_server

from . import recorded

API_KEY = "dd-api-4f1c9a7e55b2"
APP_KEY = "dd-app-0b7e2d9c11aa"
WINDOW = {"start": "2024-01-15T13:00:00Z", "end": "2024-01-15T15:00:00Z"}


def _client(url: str) -> dd.DatadogClient:
    client = dd.connect({"api_key": API_KEY, "app_key": APP_KEY, "base_url": url, "timeout": 5})
    client.sleep = lambda seconds: None
    return client


def test_a_metric_query_becomes_a_series_of_its_service_with_the_kind_its_name_says() -> None:
    route = lambda s: (200, recorded.metrics_query(s.query["query"][0]), {})  # noqa: E731
    with replay_server({("GET", "/api/v1/query"): route}) as srv:
        result = dd.query_datadog_metrics(
            _client(srv.url), {"query": "avg:trace.http.request.errors{service:payments}", **WINDOW}
        )
    [seen] = srv.seen
    assert seen.query["from"] == ["1705323600"]
    assert seen.query["to"] == ["1705330800"]
    assert (seen.headers["DD-API-KEY"], seen.headers["DD-APPLICATION-KEY"]) == (API_KEY, APP_KEY)
    [series] = result.observations.series
    assert (series.service, series.kind, series.cite) == ("payments", "error_ratio", "[tool:query_datadog_metrics]")
    assert len(series.points) == 120, "the null bucket is dropped"
    assert series.points[0] == (1705323600.0, 0.002)
    assert "max 0.09" in result.text


def test_only_monitors_in_alert_become_alerts_and_their_metric_query_is_kept_for_a_follow_up() -> None:
    with replay_server({("GET", "/api/v1/monitor"): lambda s: (200, recorded.MONITORS, {})}) as srv:
        result = dd.get_datadog_monitors(_client(srv.url), {"service": "payments"})
    assert srv.seen[0].query == {"group_states": ["alert,warn,no data"], "monitor_tags": ["service:payments"]}
    [alert] = result.observations.alerts
    assert (alert.name, alert.state, alert.service) == ("Payments error rate is high", "firing", "payments")
    assert alert.active_at == datetime(2024, 1, 15, 14, 10, 2, tzinfo=UTC)
    assert alert.cite.startswith("[tool:get_datadog_monitors] Alert Payments error rate is high (payments)")
    assert result.data == [{"query": "avg:trace.http.request.errors{env:prod,service:payments}", "service": "payments"}]


def test_a_deploy_event_becomes_a_change_of_its_service_and_a_monitor_event_does_not() -> None:
    with replay_server({("GET", "/api/v1/events"): lambda s: (200, recorded.EVENTS, {})}) as srv:
        result = dd.list_datadog_events(_client(srv.url), {"service": "payments", **WINDOW})
    assert srv.seen[0].query["tags"] == ["service:payments"]
    [change] = result.observations.changes
    assert (change.service, change.kind) == ("payments", "deploy")
    assert change.timestamp == datetime.fromtimestamp(recorded.DEPLOY, UTC)
    assert change.cite == "[tool:list_datadog_events] 2024-01-15T14:05:00Z Deployed payments v2.14.0 to prod (payments)"
    assert "[Triggered] Payments error rate is high" in result.text


def _log_pages(seen: Seen) -> tuple[int, object, dict[str, str]]:
    cursor = (seen.body.get("page") or {}).get("cursor")
    return 200, recorded.LOG_PAGES[1 if cursor else 0], {}


def test_logs_are_searched_page_by_page_and_read_as_log_lines_of_their_service() -> None:
    with replay_server({("POST", "/api/v2/logs/events/search"): _log_pages}) as srv:
        result = search_logs(_client(srv.url), {"service": "payments", "errors": True, **WINDOW})
    first, second = (seen.body for seen in srv.seen)
    assert first["filter"]["query"].startswith("service:payments (status:(error OR critical")
    assert (first["filter"]["from"], first["filter"]["to"]) == ("2024-01-15T13:00:00Z", "2024-01-15T15:00:00Z")
    assert first["sort"] == "-timestamp"
    assert second["page"]["cursor"] == "eyJhZnRlciI6IkFRQUFBWTIifQ"
    [doc] = result.observations.logs
    assert (doc.pod, doc.label) == ("payments", "[tool:search_logs]")
    assert doc.lines[0] == "2024-01-15T14:08:12Z ERROR KeyError: 'currency' in capture"
    assert len(doc.lines) == 3


def test_the_log_analysis_agent_summarises_datadog_logs_with_the_attachment_reader() -> None:
    with replay_server({("POST", "/api/v2/logs/events/search"): _log_pages}) as srv:
        result = get_log_statistics(_client(srv.url), {**WINDOW, "limit": 10})
    assert result.text.startswith("3 lines from 1 services: payments 3")
    assert "by level: error 2, info 1" in result.text


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, "Datadog refused the API or application key (403 Forbidden) for monitors"),
        (401, "Datadog refused the API key (401 Unauthorized) for monitors"),
    ],
)
def test_a_refused_key_is_a_tool_failure_naming_datadog_and_never_the_key(status: int, message: str) -> None:
    with (
        replay_server({("GET", "/api/v1/monitor"): lambda s: (status, {"errors": ["Forbidden"]}, {})}) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        dd.get_datadog_monitors(_client(srv.url), {})
    assert raised.value.message == message
    assert raised.value.unreachable is (status == 401), "a key without one scope may still read the other APIs"
    assert API_KEY not in raised.value.message
    assert APP_KEY not in raised.value.message
    assert len(srv.seen) == 1, "an auth error is not retried"


def test_a_rate_limit_resetting_soon_is_waited_out_once_then_the_call_succeeds() -> None:
    answers = iter(
        [
            (429, {"errors": ["Too many requests"]}, {"X-RateLimit-Limit": "60", "X-RateLimit-Reset": "3"}),
            (200, recorded.MONITORS, {}),
        ]
    )
    waits: list[float] = []
    with replay_server({("GET", "/api/v1/monitor"): lambda s: next(answers)}) as srv:
        client = _client(srv.url)
        client.sleep = waits.append
        result = dd.get_datadog_monitors(client, {})
    assert waits == [3.0]
    assert len(result.observations.alerts) == 1


def test_a_rate_limit_resetting_later_is_a_clear_failure_without_waiting() -> None:
    waits: list[float] = []
    limited = (429, {"errors": ["Too many requests"]}, {"X-RateLimit-Reset": "57"})
    with replay_server({("GET", "/api/v1/events"): lambda s: limited}) as srv:
        client = _client(srv.url)
        client.sleep = waits.append
        with pytest.raises(ToolFailure) as raised:
            dd.list_datadog_events(client, WINDOW)
    assert raised.value.message == "Datadog rate limit reached (429) for events; the limit resets in 57 s"
    assert waits == []


def test_a_rate_limit_that_persists_gives_up_after_bounded_retries() -> None:
    waits: list[float] = []
    limited = (429, {"errors": ["Too many requests"]}, {"X-RateLimit-Reset": "1"})
    with replay_server({("GET", "/api/v1/monitor"): lambda s: limited}) as srv:
        client = _client(srv.url)
        client.sleep = waits.append
        with pytest.raises(ToolFailure, match="Datadog rate limit reached"):
            dd.get_datadog_monitors(client, {})
    assert len(srv.seen) == dd.MAX_RETRIES + 1
    assert waits == [1.0] * dd.MAX_RETRIES


def test_the_api_host_follows_the_site_and_a_site_that_is_not_a_host_name_is_refused() -> None:
    assert dd.api_url({"site": "datadoghq.eu"}) == "https://api.datadoghq.eu"
    assert dd.api_url({}) == "https://api.datadoghq.com"
    with pytest.raises(ToolFailure, match="site must be a host name"):
        dd.api_url({"site": "evil.example/x?"})


def test_a_monitor_query_yields_its_metric_query_and_other_monitors_none() -> None:
    assert dd.monitor_metric_query("avg(last_5m):sum:http.5xx{service:web}.as_count() >= 10") == (
        "sum:http.5xx{service:web}.as_count()"
    )
    assert dd.monitor_metric_query('"http.can_connect".over("url:x").by("*").last(2).count_by_status()') is None


def test_an_unreachable_datadog_is_a_failure_naming_it() -> None:
    client = dd.connect({"api_key": API_KEY, "app_key": APP_KEY, "base_url": "http://127.0.0.1:9", "timeout": 2})
    with pytest.raises(ToolFailure) as raised:
        dd.get_datadog_monitors(client, {})
    assert (raised.value.message, raised.value.unreachable) == ("Unable to connect to Datadog", True)


def test_a_logs_search_answered_with_endless_short_pages_stops_after_a_bounded_number_of_pages() -> None:
    endless = recorded.logs_page([recorded.LOG_PAGES[1]["data"][0]], "next-cursor")
    with replay_server({("POST", "/api/v2/logs/events/search"): lambda s: (200, endless, {})}) as srv:
        records = _client(srv.url).search(text=None, service=None, start=1705323600.0, end=1705330800.0, limit=5000)
    assert len(srv.seen) == dd.MAX_LOG_PAGES
    assert len(records) == dd.MAX_LOG_PAGES
