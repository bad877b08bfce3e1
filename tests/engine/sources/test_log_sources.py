"""CloudWatch Logs (boto3, AWS JSON 1.1) and Coralogix (DataPrime over HTTPS) as the team's log source, read by
the log tools and the log_analysis_agent exactly as Loki is, against loopback stand-ins speaking their protocols."""

from __future__ import annotations

import pytest

from engine.agents import agent_tools
from engine.connectors import ToolFailure, coralogix
from engine.connectors.aws import AwsConnector
from engine.connectors.log_analysis import extract_log_signatures, get_log_statistics
from engine.connectors.loki import search_logs
from engine.registry import provider_for
from tests.engine.part2.replay_server import Seen, replay_server

from . import recorded

WINDOW = {"start": "2024-01-15T13:00:00Z", "end": "2024-01-15T15:00:00Z"}
KEY_ID = "AKIAEXAMPLEKEY123456"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CX_KEY = "cxup_9bd1f0c2e4a7"
LOG_TOOLS = ["get_log_statistics", "search_logs_by_pattern", "extract_log_signatures"]


def _cloudwatch(url: str) -> AwsConnector:
    settings = {
        "region": "eu-west-1",
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
        "timeout": 5,
        "log_groups": ["/shop/payments", "/shop/checkout"],
    }
    return AwsConnector.from_settings(settings, endpoint_url=url)


def _logs_api(answers: dict[str, object]) -> dict[tuple[str, str], object]:
    """CloudWatch Logs' JSON 1.1 protocol: every call is a POST to / named by its X-Amz-Target header."""

    def route(seen: Seen) -> tuple[int, object, dict[str, str]]:
        target = seen.headers.get("X-Amz-Target", "")
        answer = answers[target.removeprefix("Logs_20140328.")]
        status, payload = answer(seen) if callable(answer) else (200, answer)
        return status, payload, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "4f8b-11"}

    return {("POST", "/"): route}


def _pages(seen: Seen) -> tuple[int, object]:
    return 200, recorded.filter_log_events(seen.body.get("nextToken"))


def test_cloudwatch_serves_the_log_tools_when_it_has_log_groups() -> None:
    assert provider_for("loki", {"cloudwatch": {"log_groups": ["/shop/payments"]}}) == "cloudwatch"
    assert provider_for("loki", {"cloudwatch": {"region": "eu-west-1"}}) is None
    assert agent_tools("log_analysis_agent", {}, {"cloudwatch": {"log_groups": ["/a"]}})[2:] == LOG_TOOLS
    assert agent_tools("log_analysis_agent", {}, {"datadog": {}})[2:] == LOG_TOOLS
    assert agent_tools("log_analysis_agent", {}, {"coralogix": {}})[2:] == LOG_TOOLS


def test_a_service_reads_its_own_log_group_page_by_page_with_the_error_words_as_a_filter_pattern() -> None:
    with replay_server(_logs_api({"FilterLogEvents": _pages})) as srv:
        result = search_logs(_cloudwatch(srv.url), {"service": "payments", "errors": True, **WINDOW})
    first, second = (seen.body for seen in srv.seen)
    assert first["logGroupName"] == "/shop/payments"
    assert (first["startTime"], first["endTime"]) == (1705323600000, 1705330800000)
    assert '?"error"' in first["filterPattern"]
    assert '?"ERROR"' in first["filterPattern"]
    assert second["nextToken"] == "Bxkq6kVGFtq2y_Moigeqscgt"
    [doc] = result.observations.logs
    assert doc.pod == "payments"
    assert doc.lines == [
        "2024-01-15T14:14:10Z ERROR KeyError: 'currency' in capture",
        "2024-01-15T14:14:52Z ERROR could not connect to ledger:5432: Connection refused",
    ], "the INFO line the stand-in returned anyway is not a failing line"


def test_the_log_analysis_agent_reads_cloudwatch_with_the_attachment_readers_signatures() -> None:
    with replay_server(_logs_api({"FilterLogEvents": _pages})) as srv:
        stats = get_log_statistics(_cloudwatch(srv.url), {"service": "payments", **WINDOW})
        signatures = extract_log_signatures(_cloudwatch(srv.url), {"service": "payments", **WINDOW})
    assert stats.text.startswith("3 lines from 1 services: payments 3")
    assert "ledger:5432" in signatures.text
    assert signatures.observations.logs[0].label == "[tool:extract_log_signatures]"


def test_a_service_without_its_own_group_reads_every_configured_group() -> None:
    with replay_server(_logs_api({"FilterLogEvents": {"events": [], "searchedLogStreams": []}})) as srv:
        search_logs(_cloudwatch(srv.url), {"service": "ledger", "query": "refused", **WINDOW})
    assert [seen.body["logGroupName"] for seen in srv.seen] == ["/shop/payments", "/shop/checkout"]
    assert srv.seen[0].body["filterPattern"] == '"refused"'


def test_access_denied_is_a_tool_failure_naming_cloudwatch_logs() -> None:
    denied = (400, {"__type": "AccessDeniedException", "message": "User is not authorized to perform logs:Filter"})
    with (
        replay_server(_logs_api({"FilterLogEvents": lambda seen: denied})) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        search_logs(_cloudwatch(srv.url), {"service": "payments", **WINDOW})
    assert raised.value.message == "AWS CloudWatch Logs returned AccessDeniedException for filter_log_events"
    assert KEY_ID not in raised.value.message


def test_throttling_is_retried_by_the_client_a_bounded_number_of_times() -> None:
    throttled = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
    pending = [throttled]
    with replay_server(_logs_api({"FilterLogEvents": lambda seen: pending.pop() if pending else _pages(seen)})) as srv:
        result = search_logs(_cloudwatch(srv.url), {"service": "payments", "limit": 2, **WINDOW})
    assert len(result.observations.logs[0].lines) == 2
    with (
        replay_server(_logs_api({"FilterLogEvents": lambda seen: throttled})) as srv,
        pytest.raises(ToolFailure, match="returned ThrottlingException for filter_log_events"),
    ):
        search_logs(_cloudwatch(srv.url), {"service": "payments", **WINDOW})
    assert len(srv.seen) == 3, "the first attempt and the two retries the connector allows (max_attempts 2)"


def test_cloudwatch_without_log_groups_is_a_clear_failure() -> None:
    bare = AwsConnector.from_settings({"access_key_id": KEY_ID, "secret_access_key": SECRET})
    with pytest.raises(ToolFailure, match=r"no log groups configured \(cloudwatch.log_groups\)"):
        search_logs(bare, WINDOW)


# -- Coralogix ---------------------------------------------------------------------------------------------------
def _coralogix(url: str) -> coralogix.CoralogixClient:
    return coralogix.connect({"api_key": CX_KEY, "domain": "eu2.coralogix.com", "base_url": url, "timeout": 5})


def test_coralogix_logs_are_read_from_the_dataprime_ndjson_answer() -> None:
    answer = (200, recorded.coralogix_answer(), {"Content-Type": "application/x-ndjson"})
    with replay_server({("POST", "/api/v1/dataprime/query"): lambda seen: answer}) as srv:
        client = _coralogix(srv.url)
        client.application = "prod"
        result = search_logs(client, {"service": "payments", "errors": True, "query": "currency", **WINDOW})
    [seen] = srv.seen
    assert seen.headers["Authorization"] == f"Bearer {CX_KEY}"
    assert seen.body["query"] == (
        "source logs | filter $l.applicationname == 'prod' | filter $l.subsystemname == 'payments' | "
        "filter $m.severity == ERROR || $m.severity == CRITICAL | wildfind 'currency' | orderby $m.timestamp desc | "
        "limit 500"
    )
    assert seen.body["metadata"]["syntax"] == "QUERY_SYNTAX_DATAPRIME"
    assert (seen.body["metadata"]["startDate"], seen.body["metadata"]["endDate"]) == (
        "2024-01-15T13:00:00Z",
        "2024-01-15T15:00:00Z",
    )
    [doc] = result.observations.logs
    assert doc.pod == "payments"
    assert doc.lines == [
        "2024-01-15T14:09:30Z ERROR KeyError: 'currency' in capture",
        "2024-01-15T14:09:31Z ERROR plain text line: could not connect to ledger: connection refused",
    ]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "Coralogix refused the API key (401 Unauthorized)"),
        (403, "Coralogix API key lacks the DataQuerying permissions (403 Forbidden)"),
        (429, "Coralogix rate limit reached (429)"),
    ],
)
def test_coralogix_refusals_are_tool_failures_naming_it_and_never_the_key(status: int, message: str) -> None:
    with (
        replay_server({("POST", "/api/v1/dataprime/query"): lambda seen: (status, {"message": "no"}, {})}) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        search_logs(_coralogix(srv.url), WINDOW)
    assert raised.value.message == message
    assert CX_KEY not in raised.value.message


def test_a_dataprime_error_line_is_a_tool_failure_quoting_it() -> None:
    answer = (200, b'{"error": {"message": "keypath $l.subsystem does not exist"}}\n', {})
    with (
        replay_server({("POST", "/api/v1/dataprime/query"): lambda seen: answer}) as srv,
        pytest.raises(ToolFailure, match=r"could not run the query: keypath \$l.subsystem does not exist"),
    ):
        search_logs(_coralogix(srv.url), WINDOW)


def test_the_coralogix_api_url_follows_the_domain() -> None:
    assert coralogix.api_url({"domain": "eu2.coralogix.com"}) == "https://api.eu2.coralogix.com"
    with pytest.raises(ToolFailure, match="domain must be a host name"):
        coralogix.api_url({"domain": "http://x"})
