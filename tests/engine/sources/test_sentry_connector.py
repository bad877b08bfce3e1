"""Sentry's REST API through httpx against a loopback server speaking it (issues, events, Link paging, errors)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.connectors import ToolFailure, sentry
from tests.engine.part2.replay_server import Seen, replay_server

from . import recorded

TOKEN = "sntrys_eyJpYXQiOjE3MDUzMjc1MDB9_secretpart"
WINDOW = {"start": "2024-01-15T13:00:00Z", "end": "2024-01-15T15:00:00Z"}
ISSUES = "/api/0/projects/acme/payments/issues/"


def _client(url: str, **settings: object) -> sentry.SentryClient:
    client = sentry.connect({"token": TOKEN, "organization": "acme", "base_url": url, "timeout": 5, **settings})
    client.sleep = lambda seconds: None
    return client


def _paged(seen: Seen) -> tuple[int, object, dict[str, str]]:
    if seen.query.get("cursor") == ["1705330000000:0:0"]:
        last = '<{base}/api/0/projects/acme/payments/issues/?cursor=1705330000000:100:0>; rel="next"; results="false"'
        return 200, [recorded.SENTRY_ANCIENT], {"Link": last}
    following = (
        '<{base}/api/0/projects/acme/payments/issues/?cursor=0:0:1>; rel="previous"; results="false"; '
        'cursor="0:0:1", <{base}/api/0/projects/acme/payments/issues/?cursor=1705330000000:0:0>; rel="next"; '
        'results="true"; cursor="1705330000000:0:0"'
    )
    return 200, [recorded.SENTRY_NEW, recorded.SENTRY_OLD], {"Link": following}


def test_issues_are_read_page_by_page_and_those_seen_in_the_window_become_facts_with_the_error_verbatim() -> None:
    with replay_server({("GET", ISSUES): _paged}) as srv:
        result = sentry.list_sentry_issues(_client(srv.url), {"service": "payments", **WINDOW})
    first, second = srv.seen
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.query == {"query": ["is:unresolved"], "statsPeriod": ["14d"]}
    assert second.query["cursor"] == ["1705330000000:0:0"]
    new, old = result.observations.issues
    assert (new.issue_id, new.error_type, new.error_value) == ("4505", "KeyError", "'currency'")
    assert (new.culprit, new.count, new.service) == ("payments.charge in capture", 412, "payments")
    assert new.first_seen == datetime(2024, 1, 15, 14, 8, 11, 412000, tzinfo=UTC)
    assert new.cite == (
        "[tool:list_sentry_issues] PAYMENTS-3F KeyError: 'currency' in payments.charge in capture; first seen "
        "2024-01-15T14:08:11.412000Z, last seen 2024-01-15T14:39:58.120000Z, 412 events"
    )
    assert old.error_type == "ConnectionResetError"
    assert "PAYMENTS-0Z" not in result.text, "an issue last seen before the window is left out"


def test_an_issues_events_become_log_lines_for_the_log_analyzers() -> None:
    path = "/api/0/organizations/acme/issues/4505/events/"
    with replay_server({("GET", path): lambda s: (200, recorded.SENTRY_EVENTS, {})}) as srv:
        result = sentry.get_sentry_issue_events(_client(srv.url), {"issue_id": "4505", "service": "payments", **WINDOW})
    assert srv.seen[0].query == {"start": ["2024-01-15T13:00:00Z"], "end": ["2024-01-15T15:00:00Z"]}
    [doc] = result.observations.logs
    assert doc.pod == "payments"
    assert doc.lines == [
        "2024-01-15T14:08:11Z ERROR KeyError: 'currency'",
        "2024-01-15T14:09:40Z ERROR KeyError: 'currency' | charge failed for order 8812",
    ]


def test_the_project_is_the_one_asked_for_else_the_services_own_else_the_configured_ones() -> None:
    client = _client("http://127.0.0.1:9", projects=["payments", "ledger"])
    assert client.projects_for({"project": "web"}) == ["web"]
    assert client.projects_for({"service": "ledger"}) == ["ledger"]
    assert client.projects_for({"service": "checkout"}) == ["payments", "ledger"]
    with pytest.raises(ToolFailure, match="Sentry needs a project"):
        _client("http://127.0.0.1:9").projects_for({})


@pytest.mark.parametrize(
    ("status", "detail", "message"),
    [
        (401, "Invalid token", "Sentry refused the auth token (401 Unauthorized) for the issues of project payments"),
        (
            403,
            "You do not have permission to perform this action.",
            "Sentry token lacks access (403 Forbidden) to the issues of project payments",
        ),
    ],
)
def test_a_refused_token_is_a_tool_failure_naming_sentry_and_never_the_token(
    status: int, detail: str, message: str
) -> None:
    with (
        replay_server({("GET", ISSUES): lambda s: (status, {"detail": detail}, {})}) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        sentry.list_sentry_issues(_client(srv.url), {"service": "payments", **WINDOW})
    assert raised.value.message == message
    assert raised.value.unreachable is (status == 401), "a token without one project's access may read others"
    assert TOKEN not in raised.value.message
    assert len(srv.seen) == 1


def test_a_429_with_a_short_retry_after_is_retried_and_a_long_one_is_a_clear_failure() -> None:
    answers = iter(
        [
            (429, {"detail": "Request was throttled."}, {"Retry-After": "2", "X-Sentry-Rate-Limit-Remaining": "0"}),
            (200, [recorded.SENTRY_NEW], {}),
        ]
    )
    waits: list[float] = []
    with replay_server({("GET", ISSUES): lambda s: next(answers)}) as srv:
        client = _client(srv.url)
        client.sleep = waits.append
        result = sentry.list_sentry_issues(client, {"service": "payments", **WINDOW})
    assert waits == [2.0]
    assert len(result.observations.issues) == 1

    throttled = (429, {"detail": "Request was throttled."}, {"Retry-After": "45"})
    with (
        replay_server({("GET", ISSUES): lambda s: throttled}) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        sentry.list_sentry_issues(_client(srv.url), {"service": "payments", **WINDOW})
    assert (
        raised.value.message == "Sentry rate limit reached (429) for the issues of project payments; retry after 45 s"
    )
    assert len(srv.seen) == 1


def test_an_issue_without_an_issue_id_is_refused_before_any_request() -> None:
    with pytest.raises(ToolFailure, match="needs an issue_id"):
        sentry.get_sentry_issue_events(_client("http://127.0.0.1:9"), {})
