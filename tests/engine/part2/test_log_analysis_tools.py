"""The log_analysis_agent's tools read the team's log source over Loki's wire format (recorded responses)."""

import pytest

from engine.agents import agent_tools
from engine.connectors import ToolFailure, loki
from engine.connectors.http import build_client
from engine.connectors.log_analysis import extract_log_signatures, get_log_statistics, search_logs_by_pattern

from .replay_server import recorded, replay_server

WINDOW = {"start": "2024-01-15T14:00:00Z", "end": "2024-01-15T14:40:00Z"}


def loki_pages(seen):
    page = (
        "loki_query_range_page1.json" if seen.query["end"] == ["1705329600000000000"] else "loki_query_range_page2.json"
    )
    return 200, recorded(page), {}


def _client(url):
    return loki.LokiClient(build_client({"timeout": 5}, base_url=url), page_size=3)


def test_search_logs_by_pattern_keeps_only_lines_matching_the_expression_and_cites_itself():
    with replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv:
        result = search_logs_by_pattern(_client(srv.url), {**WINDOW, "pattern": r"is the server running", "limit": 10})
    assert result.text.startswith("1 of ")
    [doc] = result.observations.logs
    assert (doc.pod, doc.label) == ("payments", "[tool:search_logs_by_pattern]")
    assert "Is the server running on host" in doc.lines[0]


def test_a_bad_pattern_is_a_tool_failure_before_any_request():
    with (
        replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv,
        pytest.raises(ToolFailure, match="not a valid regular expression"),
    ):
        search_logs_by_pattern(_client(srv.url), {**WINDOW, "pattern": "(unclosed"})
    assert srv.seen == []


def test_log_statistics_count_services_levels_and_line_patterns():
    with replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv:
        result = get_log_statistics(_client(srv.url), {**WINDOW, "limit": 10})
    first = result.text.splitlines()[0]
    assert "lines from 2 services" in first
    assert "checkout" in first
    assert "payments" in first
    assert "by level: error" in result.text
    assert "charge failed" in result.text
    assert {doc.label for doc in result.observations.logs} == {"[tool:get_log_statistics]"}


def test_extract_log_signatures_names_the_connection_refused_cause():
    with replay_server({("GET", "/loki/api/v1/query_range"): loki_pages}) as srv:
        result = extract_log_signatures(_client(srv.url), {**WINDOW, "limit": 10})
    assert "|~" in srv.seen[0].query["query"][0], "only failing lines are read by default"
    assert "signature matches" in result.text.splitlines()[0]
    assert "10.0.3.7:5432" in result.text


def test_the_log_analysis_agent_lists_its_tools_only_when_a_log_source_is_enabled():
    assert agent_tools("log_analysis_agent", {}, {}) == ["think", "read_attachment"]
    assert agent_tools("log_analysis_agent", {}, {"elasticsearch": {"url": "https://es.example.com"}}) == [
        "think",
        "read_attachment",
        "get_log_statistics",
        "search_logs_by_pattern",
        "extract_log_signatures",
    ]
