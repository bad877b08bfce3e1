"""grafana_query: PromQL through a Grafana Prometheus data source (the data source proxy).

Grafana itself cannot run here, so a loopback server speaks the parts of Grafana's HTTP API the connector uses —
``GET /api/datasources`` and ``/api/datasources/proxy/uid/<uid>/...`` passing the Prometheus HTTP API through —
and answers 401 ``{"message": "Invalid API key"}`` to any other Authorization, as Grafana does.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine import InvestigationRequest, investigate
from engine.connectors import ToolFailure
from engine.connectors.grafana import GrafanaClient, connect, grafana_query
from engine.connectors.http import auth_header, build_client
from engine.connectors.loki import search_logs

from .prom_replay import NOW, ONSET, ok, prometheus_routes
from .replay_server import Replay, Route, Seen, recorded, replay_server

API_KEY = "glsa_test0123456789abcdefABCDEF_0a1b2c3d"
PROXY = "/api/datasources/proxy/uid/prom-main"
DATASOURCES = [
    {"id": 1, "uid": "loki-main", "name": "Loki", "type": "loki", "isDefault": True},
    {"id": 2, "uid": "prom-main", "name": "Prometheus", "type": "prometheus", "isDefault": False},
]


def _signed_in(route: Route) -> Route:
    def answer(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, {"message": "Invalid API key"}, {}
        return route(seen)

    return answer


def _grafana(datasources: list[dict[str, Any]] = DATASOURCES) -> dict[tuple[str, str], Route]:
    routes: dict[tuple[str, str], Route] = {
        **prometheus_routes(PROXY),
        ("GET", f"{PROXY}/api/v1/query"): ok(
            {"resultType": "vector", "result": [{"metric": {"service": "payments"}, "value": [ONSET, "0.3"]}]}
        ),
        ("GET", "/api/datasources"): lambda _seen: (200, datasources, {}),
    }
    return {key: _signed_in(route) for key, route in routes.items()}


def _client(grafana: Replay, **settings: Any) -> GrafanaClient:
    return connect({"url": grafana.url, "api_key": API_KEY, **settings})


def test_a_grafana_only_team_gets_its_root_cause_from_metrics_read_through_the_data_source_proxy() -> None:
    with replay_server(_grafana()) as grafana:
        report = investigate(
            InvestigationRequest(
                message="payments is failing",
                data_sources={"grafana": {"url": grafana.url, "api_key": API_KEY, "default_datasource": "prom-main"}},
                now=NOW,
            )
        )

    sweep = next(call for call in report.tool_calls if call.tool == "grafana_query" and call.series)
    assert sweep.series[0].title == "payments error ratio"
    assert sweep.series[0].onset == ONSET
    assert "payments" in report.root_cause.description
    assert any(line.startswith("[tool:grafana_query] payments error ratio") for line in report.root_cause.evidence)
    assert "grafana_query" in report.tools_used
    assert "search_logs" not in report.tools_used  # no logs_datasource: Grafana serves metrics only
    assert {seen.path.startswith(f"{PROXY}/api/v1/") for seen in grafana.seen} == {True}
    assert {seen.headers.get("Authorization") for seen in grafana.seen} == {f"Bearer {API_KEY}"}


def test_without_a_default_datasource_grafanas_default_prometheus_data_source_is_used() -> None:
    with replay_server(_grafana()) as grafana:
        client = _client(grafana)
        first = grafana_query(client, {"query": 'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))'})
        grafana_query(client, {"query": "up"})

    assert 'service="payments"' in first.text
    assert [seen.path for seen in grafana.seen].count("/api/datasources") == 1  # looked up once per run


def test_the_call_can_name_another_data_source_and_a_malformed_uid_is_refused() -> None:
    with replay_server(_grafana()) as grafana:
        client = _client(grafana, default_datasource="prom-main")
        with pytest.raises(ToolFailure, match="data source prom-eu returned 404"):
            grafana_query(client, {"query": "up", "datasource": "prom-eu"})
        with pytest.raises(ToolFailure, match="is not a uid"):
            grafana_query(client, {"query": "up", "datasource": "../../api/admin/users"})

    assert [seen.path for seen in grafana.seen] == ["/api/datasources/proxy/uid/prom-eu/api/v1/query"]


def test_a_wrong_api_key_is_a_failure_that_names_grafana_and_never_the_key() -> None:
    with replay_server(_grafana()) as grafana:
        client = GrafanaClient(build_client({}, base_url=grafana.url, headers=auth_header("glsa_wrong")))
        with pytest.raises(ToolFailure) as failure:
            grafana_query(client, {"query": "up"})

    assert failure.value.message == "Grafana returned 401 Unauthorized: Invalid API key"
    assert "glsa_wrong" not in failure.value.message


@pytest.mark.parametrize(
    ("datasources", "message"),
    [
        ([{"uid": "loki-main", "type": "loki", "isDefault": True}], "Grafana has no Prometheus data source"),
        (
            [{"uid": "prom-a", "type": "prometheus"}, {"uid": "prom-b", "type": "prometheus"}],
            "set grafana.default_datasource to the uid",
        ),
    ],
)
def test_no_or_several_prometheus_data_sources_without_a_default_say_what_to_set(
    datasources: list[dict[str, Any]], message: str
) -> None:
    with replay_server(_grafana(datasources)) as grafana, pytest.raises(ToolFailure, match=message):
        grafana_query(_client(grafana), {"query": "up"})


def test_grafana_settings_without_a_url_or_key_are_a_clear_failure() -> None:
    with pytest.raises(ToolFailure, match="no url"):
        connect({"api_key": API_KEY})
    with pytest.raises(ToolFailure, match="no api_key"):
        connect({"url": "http://127.0.0.1:1"})


LOKI_PROXY = "/api/datasources/proxy/uid/loki-main"


def _grafana_with_logs() -> dict[tuple[str, str], Route]:
    page = recorded("loki_query_range_page1.json")
    routes = {**_grafana(), ("GET", f"{LOKI_PROXY}/loki/api/v1/query_range"): lambda _seen: (200, page, {})}
    return {key: _signed_in(route) for key, route in routes.items()}


def test_with_a_logs_datasource_grafana_serves_the_log_tools_through_its_loki_proxy() -> None:
    with replay_server(_grafana_with_logs()) as grafana:
        client = _client(grafana, logs_datasource="loki-main", logs_service_label="service_name")
        result = search_logs(client, {"start": "2024-01-15T14:00:00Z", "end": "2024-01-15T14:40:00Z",
                                      "service": "checkout", "query": "refused"})  # fmt: skip

    [seen] = grafana.seen
    assert seen.path == f"{LOKI_PROXY}/loki/api/v1/query_range"
    assert seen.query["query"] == ['{service_name="checkout"} |= `refused`']
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert {doc.pod for doc in result.observations.logs} == {"checkout", "payments"}


def test_a_grafana_team_with_a_logs_datasource_gets_log_searches_in_its_investigations() -> None:
    settings = {"url": "", "api_key": API_KEY, "default_datasource": "prom-main", "logs_datasource": "loki-main"}
    with replay_server(_grafana_with_logs()) as grafana:
        report = investigate(
            InvestigationRequest(
                message="payments is failing", data_sources={"grafana": {**settings, "url": grafana.url}}, now=NOW
            )
        )
    searches = [call for call in report.tool_calls if call.tool == "search_logs"]
    assert searches
    assert all(call.ok for call in searches)
    assert any(seen.path.startswith(f"{LOKI_PROXY}/loki/") for seen in grafana.seen)


def test_a_query_with_a_window_but_no_start_is_a_range_query() -> None:
    with replay_server(_grafana()) as grafana:
        result = grafana_query(_client(grafana, default_datasource="prom-main"), {"query": "up", "minutes": 30})

    assert [seen.path for seen in grafana.seen] == [f"{PROXY}/api/v1/query_range"]
    assert result.observations.series
