"""Loki and Elasticsearch connectors against loopback servers replaying recorded responses."""

import pytest

from engine.connectors import ToolFailure, loki
from engine.connectors import elasticsearch as es
from engine.connectors.http import build_client

from .replay_server import body, recorded, replay_server

SECRET = "s3cr3t-token-value"
WINDOW = {"start": "2024-01-15T14:00:00Z", "end": "2024-01-15T14:40:00Z"}


def loki_pages(seen):
    page = (
        "loki_query_range_page1.json" if seen.query["end"] == ["1705329600000000000"] else "loki_query_range_page2.json"
    )
    return 200, recorded(page), {}


def test_loki_search_pages_backwards_and_groups_lines_per_service():
    with replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv:
        client = loki.LokiClient(
            build_client({"timeout": 5}, base_url=srv.url, headers={"Authorization": f"Bearer {SECRET}"}), page_size=3
        )
        result = loki.search_logs(client, {**WINDOW, "service": "checkout", "query": "refused", "limit": 10})
    queries = [s.query["query"][0] for s in srv.seen]
    assert queries == ['{app="checkout"} |= `refused`'] * 2
    assert srv.seen[1].query["end"] == ["1705329125000000000"]
    assert srv.seen[0].headers["Authorization"] == f"Bearer {SECRET}"
    docs = {d.pod: d for d in result.observations.logs}
    assert set(docs) == {"checkout", "payments"}
    assert len(docs["checkout"].lines) == 3
    assert docs["checkout"].lines[0].startswith("2024-01-15T14:31:41Z level=error")
    assert docs["checkout"].label == "[tool:search_logs]"
    assert "Is the server running on host" in docs["payments"].lines[0]
    assert SECRET not in result.text


@pytest.mark.parametrize(("errors", "filtered"), [("false", False), (False, False), ("true", True), (True, True)])
def test_the_errors_flag_is_read_as_a_yes_or_no_whatever_its_type(errors, filtered):
    with replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv:
        client = loki.LokiClient(build_client({}, base_url=srv.url))
        loki.search_logs(client, {**WINDOW, "service": "checkout", "errors": errors})
    assert ("|~" in srv.seen[0].query["query"][0]) is filtered


def test_loki_logs_around_a_timestamp_query_a_symmetric_window():
    with replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv:
        client = loki.LokiClient(build_client({}, base_url=srv.url))
        result = loki.get_logs_around_timestamp(client, {"timestamp": "2024-01-15T14:32:00Z", "window_seconds": 60})
    assert srv.seen[0].query["start"] == ["1705329060000000000"]
    assert srv.seen[0].query["end"] == ["1705329180000000000"]
    assert result.observations.logs[0].label == "[tool:get_logs_around_timestamp]"


def test_a_loki_query_error_is_a_tool_failure_naming_loki_without_the_address():
    with replay_server({("GET", "/loki/api/v1/query_range"): body(recorded("loki_error_400.json"), 400)}) as srv:
        client = loki.LokiClient(build_client({}, base_url=srv.url))
        with pytest.raises(ToolFailure) as err:
            loki.search_logs(client, {**WINDOW, "query": "{app=}"})
    assert err.value.message.startswith("Loki returned 400")
    assert "127.0.0.1" not in err.value.message


def test_an_unreachable_loki_is_reported_as_unreachable():
    client = loki.LokiClient(build_client({"timeout": 1}, base_url="http://127.0.0.1:9"))
    with pytest.raises(ToolFailure, match="Unable to connect to Loki") as err:
        loki.search_logs(client, WINDOW)
    assert err.value.unreachable


def es_pages(seen):
    page = "es_search_page2.json" if "search_after" in seen.body else "es_search_page1.json"
    return 200, recorded(page), {}


def test_elasticsearch_search_uses_time_range_query_string_and_search_after():
    with replay_server({("POST", "/logs-shop-*/_search"): es_pages}) as srv:
        client = es.connect({"url": srv.url, "api_key": SECRET, "index_pattern": "logs-shop-*", "timeout": 5})
        client.page_size = 2
        result = loki.search_logs(client, {**WINDOW, "service": "payments", "query": "HikariPool", "limit": 10})
    first = srv.seen[0].body
    assert first["query"]["bool"]["must"] == [{"query_string": {"query": "HikariPool", "default_operator": "AND"}}]
    assert first["query"]["bool"]["filter"][0]["range"]["@timestamp"]["gte"] == "2024-01-15T14:00:00Z"
    assert srv.seen[1].body["search_after"] == [1705329065020, 117]
    assert srv.seen[0].headers["Authorization"] == f"ApiKey {SECRET}"
    lines = result.observations.logs[0].lines
    assert result.observations.logs[0].pod == "payments"
    assert (
        lines[-1]
        == "2024-01-15T14:31:07Z ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms."
    )
    assert len(lines) == 3


def test_elasticsearch_auth_failure_names_the_source_and_not_the_key():
    with replay_server({("POST", "/logs-*/_search"): body(recorded("es_error_401.json"), 401)}) as srv:
        client = es.connect({"url": srv.url, "api_key": SECRET})
        with pytest.raises(ToolFailure) as err:
            loki.search_logs(client, WINDOW)
    assert err.value.message.startswith("Elasticsearch returned 401 Unauthorized: unable to authenticate")
    assert SECRET not in err.value.message
