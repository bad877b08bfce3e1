"""The connection checks of Datadog, Sentry and Coralogix, through their connectors against loopback stand-ins
speaking each API's wire format: what answered in a sentence, or a failure naming the source and never a secret."""

from __future__ import annotations

import time

import pytest

from engine.connection_check import can_check, check_connection
from engine.connectors import ToolFailure, coralogix, sentry
from engine.connectors import datadog as dd
from engine.connectors.params import to_epoch
from tests.engine.part2.replay_server import replay_server

from . import recorded

DD_API_KEY = "dd-api-4f1c9a7e55b2"
DD_APP_KEY = "dd-app-0b7e2d9c11aa"
SENTRY_TOKEN = "sntrys_eyJpYXQiOjE3MDUzMjc1MDB9_secretpart"
CX_KEY = "cxup_9bd1f0c2e4a7"
VALIDATE, MONITOR_SEARCH = ("GET", "/api/v1/validate"), ("GET", "/api/v1/monitor/search")
PROJECTS = ("GET", "/api/0/organizations/acme/projects/")
DATAPRIME = ("POST", "/api/v1/dataprime/query")


def test_the_three_sources_have_a_connection_check() -> None:
    assert [can_check(name) for name in ("datadog", "sentry", "coralogix")] == [True, True, True]


# -- Datadog ---------------------------------------------------------------------------------------------------
def _datadog(url: str) -> dd.DatadogClient:
    client = dd.connect({"api_key": DD_API_KEY, "app_key": DD_APP_KEY, "base_url": url, "timeout": 5})
    client.sleep = lambda seconds: None
    return client


def test_datadog_validates_the_api_key_alone_then_counts_monitors_with_the_application_key() -> None:
    routes = {
        VALIDATE: lambda s: (200, recorded.DATADOG_VALID, {}),
        MONITOR_SEARCH: lambda s: (200, recorded.monitor_search(12), {}),
    }
    with replay_server(routes) as srv:
        message = dd.check_datadog(_datadog(srv.url))
    assert message == "Datadog answered: API key valid for 127.0.0.1; 12 monitors readable"
    validate, search = srv.seen
    assert validate.headers["DD-API-KEY"] == DD_API_KEY
    assert "DD-APPLICATION-KEY" not in validate.headers, "the validate endpoint takes the API key only"
    assert search.query == {"per_page": ["1"]}
    assert (search.headers["DD-API-KEY"], search.headers["DD-APPLICATION-KEY"]) == (DD_API_KEY, DD_APP_KEY)


def test_datadog_names_the_site_the_settings_point_at() -> None:
    assert dd.site_of({"site": "DatadogHQ.eu"}) == "datadoghq.eu"
    assert dd.site_of({}) == "datadoghq.com"
    assert dd.site_of({"site": "datadoghq.eu", "base_url": "https://dd-proxy.acme.internal/"}) == (
        "dd-proxy.acme.internal"
    )


@pytest.mark.parametrize(
    ("validate", "search", "message"),
    [
        (
            (403, {"errors": ["Forbidden"]}, {}),
            None,
            "Datadog refused the API or application key (403 Forbidden) for the API key check",
        ),
        (
            (200, recorded.DATADOG_VALID, {}),
            (403, {"errors": ["Forbidden"]}, {}),
            "Datadog API key valid for 127.0.0.1, but Datadog refused the API or application key (403 Forbidden) "
            "for monitors",
        ),
        ((200, {"valid": False}, {}), None, "Datadog did not confirm the API key for 127.0.0.1"),
        (
            (429, {"errors": ["Too many requests"]}, {"X-RateLimit-Reset": "57"}),
            None,
            "Datadog rate limit reached (429) for the API key check; the limit resets in 57 s",
        ),
    ],
)
def test_a_datadog_refusal_or_rate_limit_is_a_failure_naming_datadog_and_never_a_key(
    validate: tuple[int, object, dict[str, str]], search: tuple[int, object, dict[str, str]] | None, message: str
) -> None:
    routes = {VALIDATE: lambda s: validate}
    if search is not None:
        routes[MONITOR_SEARCH] = lambda s: search
    with replay_server(routes) as srv, pytest.raises(ToolFailure) as raised:
        dd.check_datadog(_datadog(srv.url))
    assert raised.value.message == message
    assert DD_API_KEY not in raised.value.message
    assert DD_APP_KEY not in raised.value.message


def test_a_datadog_check_runs_through_check_connection_with_the_keys_masked() -> None:
    echo = (403, {"errors": [f"Forbidden {DD_API_KEY}"]}, {})
    with replay_server({VALIDATE: lambda s: echo}) as srv:
        check = check_connection(
            "datadog",
            {"api_key": DD_API_KEY, "app_key": DD_APP_KEY, "base_url": srv.url},
            egress=None,
            secrets=[DD_API_KEY, DD_APP_KEY],
        )
    assert (check.ok, check.message) == (
        False,
        "Datadog refused the API or application key (403 Forbidden) for the API key check",
    )


# -- Sentry ----------------------------------------------------------------------------------------------------
def _sentry(url: str, **settings: object) -> sentry.SentryClient:
    client = sentry.connect({"token": SENTRY_TOKEN, "organization": "acme", "base_url": url, "timeout": 5, **settings})
    client.sleep = lambda seconds: None
    return client


def test_sentry_counts_the_organizations_projects_with_the_token() -> None:
    with replay_server({PROJECTS: lambda s: (200, recorded.SENTRY_PROJECTS, {})}) as srv:
        message = sentry.check_sentry(_sentry(srv.url))
    assert message == "Sentry answered: organization acme has 2 projects"
    assert srv.seen[0].headers["Authorization"] == f"Bearer {SENTRY_TOKEN}"


def test_sentry_finds_configured_projects_in_the_listing_or_by_looking_each_up() -> None:
    more = '<{base}/api/0/organizations/acme/projects/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"'
    routes = {
        PROJECTS: lambda s: (200, recorded.SENTRY_PROJECTS, {"Link": more}),
        ("GET", "/api/0/projects/acme/ledger/"): lambda s: (200, recorded.sentry_project("ledger", "9"), {}),
    }
    with replay_server(routes) as srv:
        message = sentry.check_sentry(_sentry(srv.url, projects=["payments", "ledger"]))
    assert message == "Sentry answered: organization acme has 2+ projects; configured projects payments, ledger found"
    assert [seen.path for seen in srv.seen] == ["/api/0/organizations/acme/projects/", "/api/0/projects/acme/ledger/"]


def test_a_configured_sentry_project_that_does_not_exist_fails_the_check_naming_it() -> None:
    with (
        replay_server({PROJECTS: lambda s: (200, recorded.SENTRY_PROJECTS, {})}) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        sentry.check_sentry(_sentry(srv.url, projects=["payments", "paymnets"]))
    assert raised.value.message == "Sentry organization acme has no project paymnets that the token can read"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (401, {"detail": "Invalid token"}, {}),
            "Sentry refused the auth token (401 Unauthorized) for the projects of organization acme",
        ),
        (
            (404, {"detail": "The requested resource does not exist"}, {}),
            "Sentry has no organization acme that the token can read (404 Not Found)",
        ),
        (
            (429, {"detail": "slow down"}, {"Retry-After": "60"}),
            "Sentry rate limit reached (429) for the projects of organization acme; retry after 60 s",
        ),
    ],
)
def test_a_sentry_refusal_or_rate_limit_names_sentry_and_the_organization_and_never_the_token(
    answer: tuple[int, object, dict[str, str]], message: str
) -> None:
    with replay_server({PROJECTS: lambda s: answer}) as srv, pytest.raises(ToolFailure) as raised:
        sentry.check_sentry(_sentry(srv.url))
    assert raised.value.message == message
    assert SENTRY_TOKEN not in raised.value.message


# -- Coralogix -------------------------------------------------------------------------------------------------
def _coralogix(url: str, **settings: object) -> coralogix.CoralogixClient:
    return coralogix.connect(
        {"api_key": CX_KEY, "domain": "eu2.coralogix.com", "base_url": url, "timeout": 5, **settings}
    )


def test_coralogix_counts_the_configured_labels_logs_of_the_last_minutes_with_one_dataprime_query() -> None:
    answer = (200, recorded.coralogix_count_answer(48213), {"Content-Type": "application/x-ndjson"})
    before = time.time()
    with replay_server({DATAPRIME: lambda s: answer}) as srv:
        message = coralogix.check_coralogix(_coralogix(srv.url, default_application="prod"))
    assert message == "Coralogix answered: DataPrime query ran; 48,213 logs of application prod in the last 15 minutes"
    [seen] = srv.seen
    assert seen.headers["Authorization"] == f"Bearer {CX_KEY}"
    assert seen.body["query"] == "source logs | filter $l.applicationname == 'prod' | count"
    assert seen.body["metadata"]["syntax"] == "QUERY_SYNTAX_DATAPRIME"
    start, end = (to_epoch(seen.body["metadata"][key]) for key in ("startDate", "endDate"))
    assert end - start == pytest.approx(15 * 60, abs=1)
    assert end >= int(before)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "Coralogix refused the API key (401 Unauthorized)"),
        (403, "Coralogix API key lacks the DataQuerying permissions (403 Forbidden)"),
        (429, "Coralogix rate limit reached (429)"),
    ],
)
def test_a_coralogix_refusal_or_rate_limit_is_a_failure_naming_it_and_never_the_key(status: int, message: str) -> None:
    with (
        replay_server({DATAPRIME: lambda s: (status, {"message": f"denied {CX_KEY}"}, {})}) as srv,
        pytest.raises(ToolFailure) as raised,
    ):
        coralogix.check_coralogix(_coralogix(srv.url))
    assert raised.value.message == message


def test_a_dataprime_error_line_fails_the_coralogix_check_quoting_it() -> None:
    answer = (200, b'{"error": {"message": "keypath $l.applicationname is unknown"}}\n', {})
    with (
        replay_server({DATAPRIME: lambda s: answer}) as srv,
        pytest.raises(ToolFailure, match=r"could not run the query: keypath \$l.applicationname is unknown"),
    ):
        coralogix.check_coralogix(_coralogix(srv.url))
