"""The Python SDK (sdk/python, API.md §8): unit behaviour over httpx's mock transport, then against the live server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from incidentfox import (
    AuthenticationError,
    ConflictError,
    IncidentFoxClient,
    IncidentFoxError,
    InvalidFieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TokenExpiredError,
    ValidationError,
    WaitTimeout,
)
from incidentfox.client import poll_delays

from tests.conftest import ApiCaller
from tests.support.clock import wait_for_a_fresh_minute

# -- unit: the client's own rules -----------------------------------------------------------------------------


def _error(status: int, code: str, *, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened", "request_id": "req_unit0000000000000001", **extra}}
    return httpx.Response(status, json=body, headers=headers)


def _client(handler: Any, sleeps: list[float] | None = None, **options: Any) -> IncidentFoxClient:
    record = sleeps if sleeps is not None else []
    return IncidentFoxClient(
        "ift_abcdefghijkl.secret",
        "http://api.test/api/v1",
        transport=httpx.MockTransport(handler),
        sleep=record.append,
        **options,
    )


def test_polling_waits_one_second_then_doubles_up_to_ten() -> None:
    delays = poll_delays()
    assert [next(delays) for _ in range(7)] == [1, 2, 4, 8, 10, 10, 10]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "validation_error", ValidationError),
        (400, "invalid_field", InvalidFieldError),
        (401, "unauthorized", AuthenticationError),
        (401, "token_expired", TokenExpiredError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (500, "server_error", ServerError),
    ],
)
def test_each_error_code_raises_its_own_exception_with_code_status_and_request_id(
    status: int, code: str, expected: type[IncidentFoxError]
) -> None:
    client = _client(lambda request: _error(status, code, details={"field": "x"}))
    with pytest.raises(expected) as raised:
        client.investigations.get("inv_x")
    assert (raised.value.code, raised.value.status) == (code, status)
    assert raised.value.request_id == "req_unit0000000000000001"
    assert raised.value.details == {"field": "x"}


def test_an_error_without_the_documented_body_still_maps_by_status() -> None:
    client = _client(lambda request: httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(ServerError) as raised:
        client.me()
    assert raised.value.status == 502


def test_a_429_is_retried_after_retry_after_and_raises_once_the_retries_run_out() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return _error(429, "rate_limited", headers={"Retry-After": "7"}, retry_after=7)

    sleeps: list[float] = []
    with pytest.raises(RateLimitError) as raised:
        _client(handler, sleeps, max_retries=2).me()
    assert sleeps == [7.0, 7.0]
    assert len(calls) == 3
    assert raised.value.retry_after == 7


def test_a_429_followed_by_success_returns_the_success() -> None:
    answers = iter(
        [
            _error(429, "rate_limited", headers={"Retry-After": "2"}),
            httpx.Response(200, json={"role": "team", "auth_kind": "team_token", "org_id": "org-acme"}),
        ]
    )
    sleeps: list[float] = []
    assert _client(lambda request: next(answers), sleeps).me().role == "team"
    assert sleeps == [2.0]


def test_team_id_is_sent_as_x_team_id_and_list_filters_as_query_parameters() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"investigations": [], "pagination": {"total": 0, "limit": 5, "offset": 10}})

    page = _client(handler, team_id="team-platform").investigations.list(5, 10, status=["running", "pending"])
    assert seen[0].headers["X-Team-Id"] == "team-platform"
    assert dict(seen[0].url.params) == {"limit": "5", "offset": "10", "status": "running,pending"}
    assert (page.total, page.investigations) == (0, [])


def test_wait_polls_with_the_backoff_until_the_investigation_is_terminal() -> None:
    bodies = iter(["pending", "running", "running", "completed"])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(bodies)
        body: dict[str, Any] = {"investigation_id": "inv_w", "status": status}
        if status == "completed":
            body["result"] = {"summary": "Pool exhausted", "root_cause": {"description": "a leak", "confidence": 80}}
        return httpx.Response(200, json=body)

    sleeps: list[float] = []
    inv = _client(handler, sleeps).investigations.wait("inv_w")
    assert sleeps == [1.0, 2.0, 4.0]
    assert (inv.status, inv.summary, inv.root_cause.description) == ("completed", "Pool exhausted", "a leak")
    assert "root_cause" not in inv  # it lives under result; the property reads it from there


def test_wait_gives_up_after_its_timeout_without_cancelling() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"investigation_id": "inv_t", "status": "running"})

    with pytest.raises(WaitTimeout):
        _client(handler).investigations.wait("inv_t", timeout=0)
    assert seen == ["GET /api/v1/agents/status/inv_t"]  # one look, and no cancel


# -- integration: the live server --------------------------------------------------------------------------


@pytest.fixture
def sdk(live_server: Any, member: ApiCaller) -> IncidentFoxClient:
    return IncidentFoxClient(member.token or "", f"{live_server.url}/api/v1")


@pytest.mark.django_db(transaction=True)
def test_investigate_waits_for_the_result_and_exposes_it_as_attributes(sdk: IncidentFoxClient) -> None:
    inv = sdk.investigate(
        "Checkout returns 502s since the last deploy",
        context={"service": "checkout", "attachments": [{"name": "app.log", "content": "ERROR upstream timeout\n"}]},
    )
    assert inv.status == "completed"
    assert inv.investigation_id.startswith("inv_")
    assert inv.summary
    root_cause = inv.root_cause
    assert root_cause is not None
    assert isinstance(root_cause.confidence, int)
    assert root_cause["description"] == inv.result.root_cause.description
    assert isinstance(inv.recommendations, list)

    assert sdk.investigations.get(inv.investigation_id).to_dict() == inv.to_dict()
    page = sdk.investigations.list(limit=5)
    assert page.total == 1
    assert page.investigations[0].investigation_id == inv.investigation_id


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_finished_investigation_raises_conflict_with_the_request_id(sdk: IncidentFoxClient) -> None:
    inv = sdk.investigate("Disk full on db-1", wait=False)
    with pytest.raises(ConflictError) as raised:
        sdk.investigations.cancel(inv.investigation_id)  # the test backend finished it at commit
    assert raised.value.status == 409
    assert (raised.value.request_id or "").startswith("req_")
    assert raised.value.details == {"status": "completed"}


@pytest.mark.django_db(transaction=True)
def test_another_teams_investigation_and_a_bad_token_raise_not_found_and_authentication_errors(
    sdk: IncidentFoxClient, live_server: Any, outsider: ApiCaller
) -> None:
    theirs = outsider.post("/agents/run", {"agent_name": "planner", "message": "theirs", "async": True}).json()
    with pytest.raises(NotFoundError):
        sdk.investigations.get(theirs["investigation_id"])
    with pytest.raises(AuthenticationError) as raised:
        IncidentFoxClient("ift_AAAAAAAAAAAA." + "b" * 40, f"{live_server.url}/api/v1").me()
    assert raised.value.code == "unauthorized"


@pytest.mark.django_db(transaction=True)
def test_config_reads_with_attributes_and_keys_and_updates_report_version_and_changed_fields(
    sdk: IncidentFoxClient,
) -> None:
    hook = "https://hooks.example.com/sdk-incidents"
    change = sdk.config.update({"webhooks": {"investigation_complete": hook}})
    assert change.applied
    assert change.changed_fields == ["webhooks.investigation_complete"]
    assert change.version == 1
    effective = sdk.config.get_effective()
    assert effective.webhooks.investigation_complete == effective["webhooks"]["investigation_complete"] == hook
    assert isinstance(effective.mcp_servers, list)


@pytest.mark.django_db(transaction=True)
def test_the_real_servers_429_is_retried_after_its_retry_after(live_server: Any, member: ApiCaller) -> None:
    org = member.team.org
    org.rate_limits = {"trigger": 1}
    org.save()
    sleeps: list[float] = []
    client = IncidentFoxClient(member.token or "", f"{live_server.url}/api/v1", max_retries=2, sleep=sleeps.append)
    wait_for_a_fresh_minute(10)  # every attempt must land in the same one-minute window
    client.investigate("first", wait=False)
    with pytest.raises(RateLimitError) as raised:
        client.investigate("second", wait=False)
    assert len(sleeps) == 2
    assert all(1 <= delay <= 60 for delay in sleeps)
    assert raised.value.retry_after is not None
