"""The Python SDK's transport rules over httpx's mock transport: retries with jittered backoff, typed errors,
auto-paging, response metadata and per-view options, in the sync and the async client alike."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from incidentfox import (
    APIConnectionError,
    APITimeoutError,
    AsyncIncidentFoxClient,
    Hypothesis,
    IncidentFoxClient,
    IncidentFoxError,
    InvalidResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from incidentfox._core import BACKOFF_MAX_SECONDS, backoff_seconds

BASE = "http://api.test/api/v1"
TOKEN = "ift_abcdefghijkl.secret"
STATUS = {"investigation_id": "inv_t", "status": "running", "agent": "planner"}


def _client(handler: Any, sleeps: list[float] | None = None, **options: Any) -> IncidentFoxClient:
    record = sleeps if sleeps is not None else []
    return IncidentFoxClient(TOKEN, BASE, transport=httpx.MockTransport(handler), sleep=record.append, **options)


def _async_client(handler: Any, sleeps: list[float], **options: Any) -> AsyncIncidentFoxClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncIncidentFoxClient(TOKEN, BASE, transport=httpx.MockTransport(handler), sleep=sleep, **options)


def _answers(*answers: httpx.Response | Exception) -> Any:
    """A handler that answers (or raises) each of ``answers`` in turn and records the requests."""
    queue = list(answers)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    handler.seen = seen
    return handler


def _server_error(status: int = 503, **headers: str) -> httpx.Response:
    body = {"error": {"code": "server_error", "message": "Internal server error", "request_id": "req_5xx"}}
    return httpx.Response(status, json=body, headers=headers)


# -- backoff --------------------------------------------------------------------------------------------------------


def test_backoff_doubles_from_half_a_second_with_jitter_between_half_and_all_of_it_capped_at_eight() -> None:
    assert [backoff_seconds(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert [backoff_seconds(n, lambda: 0.0) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    drawn = [backoff_seconds(2) for _ in range(200)]
    assert all(1.0 <= delay <= 2.0 for delay in drawn)
    assert len(set(drawn)) > 100  # really jittered
    assert backoff_seconds(30) <= BACKOFF_MAX_SECONDS


# -- retries --------------------------------------------------------------------------------------------------------


def test_a_get_that_cannot_connect_is_retried_with_jittered_backoff_then_succeeds() -> None:
    handler = _answers(httpx.ConnectError("refused"), httpx.ConnectError("refused"), httpx.Response(200, json=STATUS))
    sleeps: list[float] = []
    inv = _client(handler, sleeps).investigations.get("inv_t")
    assert inv.status == "running"
    assert len(handler.seen) == 3
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_no_connection_after_every_retry_raises_api_connection_error_without_a_status() -> None:
    handler = _answers(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as raised:
        _client(handler, max_retries=2).me()
    assert len(handler.seen) == 3
    assert raised.value.status is None
    assert raised.value.code == "connection_error"
    assert isinstance(raised.value, IncidentFoxError)


def test_a_timeout_is_an_api_timeout_error_and_a_connection_error() -> None:
    handler = _answers(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError) as raised:
        _client(handler, max_retries=1).config.get_effective()
    assert isinstance(raised.value, APIConnectionError)
    assert raised.value.code == "timeout"
    assert len(handler.seen) == 2


def test_a_post_without_an_idempotency_key_is_not_repeated_after_no_answer_or_a_5xx() -> None:
    for failure in (httpx.ConnectError("reset"), _server_error(502)):
        handler = _answers(failure)
        sleeps: list[float] = []
        with pytest.raises((APIConnectionError, ServerError)):
            _client(handler, sleeps).investigations.cancel("inv_t")
        assert (len(handler.seen), sleeps) == (1, [])


def test_a_5xx_on_get_put_and_delete_is_retried_and_honours_retry_after() -> None:
    handler = _answers(_server_error(503, **{"Retry-After": "3"}), _server_error(500), httpx.Response(200, json={}))
    sleeps: list[float] = []
    client = _client(handler, sleeps)
    client.config.update({"slack_channel": "#ops"})
    assert [r.method for r in handler.seen] == ["PUT", "PUT", "PUT"]
    assert sleeps[0] == 3.0
    assert 0.5 <= sleeps[1] <= 1.0
    handler = _answers(_server_error(504), httpx.Response(204))
    _client(handler).knowledge.delete("doc_1")
    assert [r.method for r in handler.seen] == ["DELETE", "DELETE"]


def test_starting_an_investigation_always_sends_an_idempotency_key_so_its_5xx_is_retried_with_the_same_key() -> None:
    accepted = {"investigation_id": "inv_t", "status": "pending", "poll_url": "/api/v1/agents/status/inv_t"}
    handler = _answers(_server_error(502), httpx.Response(202, json=accepted), httpx.Response(200, json=STATUS))
    _client(handler).investigate("checkout is down", wait=False)
    posts = [r for r in handler.seen if r.method == "POST"]
    assert len(posts) == 2
    keys = {r.headers["Idempotency-Key"] for r in posts}
    assert len(keys) == 1
    assert next(iter(keys)).startswith("ifpy_")
    assert json.loads(posts[0].content) == json.loads(posts[1].content)
    handler = _answers(httpx.Response(202, json=accepted), httpx.Response(200, json=STATUS))
    _client(handler).investigate("again", wait=False, idempotency_key="deploy-42")
    assert handler.seen[0].headers["Idempotency-Key"] == "deploy-42"


def test_max_retries_zero_raises_the_first_failure_and_a_4xx_is_never_retried() -> None:
    handler = _answers(_server_error(500))
    with pytest.raises(ServerError):
        _client(handler, max_retries=0).me()
    assert len(handler.seen) == 1
    missing = {"error": {"code": "not_found", "message": "Not found", "request_id": "req_404"}}
    handler = _answers(httpx.Response(404, json=missing))
    with pytest.raises(NotFoundError):
        _client(handler).investigations.get("inv_gone")
    assert len(handler.seen) == 1
    with pytest.raises(ValueError, match="max_retries"):
        _client(handler, max_retries=-1)


# -- models ---------------------------------------------------------------------------------------------------------


def test_a_completed_status_becomes_typed_models_down_to_the_hypotheses() -> None:
    evidence = ["[tool:query_prometheus] p99 4.2 s from 14:31Z"]
    body = {
        **STATUS,
        "status": "completed",
        "duration_seconds": 45,
        "tools_used": ["query_prometheus"],
        "result": {
            "summary": "Pool exhaustion",
            "root_cause": {"description": "a leak", "confidence": 92, "evidence": evidence},
            "timeline": [{"timestamp": "2024-01-15T14:29:00Z", "event": "deployed"}],
            "affected_systems": ["payments-api"],
            "recommendations": [{"priority": "high", "action": "Roll back"}],
            "hypotheses": [
                {
                    "description": "a leak",
                    "confidence": 92,
                    "status": "supported",
                    "subject": "db",
                    "evidence": evidence,
                },
                {"description": "bad node", "confidence": 10, "status": "refuted", "evidence": []},
            ],
            "later_field": {"kept": True},
        },
    }
    inv = _client(_answers(httpx.Response(200, json=body))).investigations.get("inv_t")
    assert inv.done
    assert inv.root_cause is not None
    assert (inv.root_cause.confidence, inv.root_cause.evidence) == (92, evidence)
    assert inv.timeline is not None
    assert inv.timeline[0].event == "deployed"
    assert inv.recommendations is not None
    assert (inv.recommendations[0].priority, inv.recommendations[0].action) == ("high", "Roll back")
    assert inv.hypotheses == [
        Hypothesis(description="a leak", confidence=92, status="supported", subject="db", evidence=evidence),
        Hypothesis(description="bad node", confidence=10, status="refuted", subject=None, evidence=[]),
    ]
    assert inv.result is not None
    assert inv.result["later_field"].kept is True  # fields the SDK does not know stay reachable
    assert inv.to_dict() == body


def test_a_body_missing_a_required_field_or_not_json_is_an_invalid_response_error() -> None:
    with pytest.raises(InvalidResponseError, match="investigation_id"):
        _client(_answers(httpx.Response(200, json={"status": "running"}))).investigations.get("inv_t")
    with pytest.raises(InvalidResponseError, match="not JSON"):
        _client(_answers(httpx.Response(200, text="<html>proxy</html>"))).investigations.get("inv_t")


# -- paging ---------------------------------------------------------------------------------------------------------


def _paged_investigations(total: int) -> Any:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        offset, limit = int(params["offset"]), int(params["limit"])
        items = [
            {"investigation_id": f"inv_{n}", "status": "completed"} for n in range(offset, min(offset + limit, total))
        ]
        return httpx.Response(
            200, json={"investigations": items, "pagination": {"total": total, "limit": limit, "offset": offset}}
        )

    handler.seen = seen
    return handler


def test_iterate_walks_every_page_by_offset_and_stops_at_the_total() -> None:
    handler = _paged_investigations(5)
    ids = [inv.investigation_id for inv in _client(handler).investigations.iterate(status=["failed"], page_size=2)]
    assert ids == ["inv_0", "inv_1", "inv_2", "inv_3", "inv_4"]
    assert [(p["offset"], p["limit"], p["status"]) for p in handler.seen] == [
        ("0", "2", "failed"),
        ("2", "2", "failed"),
        ("4", "2", "failed"),
    ]


def test_iterate_fetches_lazily_and_stops_on_an_empty_page() -> None:
    handler = _paged_investigations(1000)
    iterator = _client(handler).investigations.iterate(page_size=10)
    first = [next(iterator) for _ in range(3)]
    assert [inv.investigation_id for inv in first] == ["inv_0", "inv_1", "inv_2"]
    assert len(handler.seen) == 1
    empty = _answers(httpx.Response(200, json={"deliveries": [], "pagination": {"total": 9, "limit": 50, "offset": 0}}))
    assert list(_client(empty).webhooks.iterate_deliveries()) == []
    assert len(empty.seen) == 1


# -- response metadata and per-view options -------------------------------------------------------------------------


def test_last_response_exposes_the_request_id_rate_limit_and_attempts() -> None:
    headers = {
        "X-Request-ID": "req_abc",
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "95",
        "X-RateLimit-Reset": "1705318260",
        "Idempotent-Replayed": "true",
    }
    handler = _answers(_server_error(503), httpx.Response(200, json=STATUS, headers=headers))
    client = _client(handler)
    assert client.last_response is None
    client.investigations.get("inv_t")
    meta = client.last_response
    assert meta is not None
    assert (meta.status, meta.request_id, meta.attempts, meta.idempotent_replayed) == (200, "req_abc", 2, True)
    assert (meta.rate_limit.limit, meta.rate_limit.remaining, meta.rate_limit.reset) == (100, 95, 1705318260)


def test_an_error_carries_the_answers_headers_and_request_id() -> None:
    limited = {"error": {"code": "rate_limited", "message": "Too many requests", "retry_after": 9, "request_id": "r1"}}
    answer = httpx.Response(429, json=limited, headers={"Retry-After": "9", "X-RateLimit-Remaining": "0"})
    with pytest.raises(RateLimitError) as raised:
        _client(_answers(answer), max_retries=0).me()
    assert (raised.value.retry_after, raised.value.request_id) == (9, "r1")
    assert raised.value.headers["x-ratelimit-remaining"] == "0"


def test_with_options_sets_a_timeout_and_extra_headers_for_that_view_only() -> None:
    handler = _answers(httpx.Response(200, json=STATUS))
    client = _client(handler, timeout=30)
    quick = client.with_options(timeout=2.5, extra_headers={"X-Request-ID": "mine-1"}, max_retries=0)
    quick.investigations.get("inv_t")
    client.investigations.get("inv_t")
    first, second = handler.seen
    assert first.headers["X-Request-ID"] == "mine-1"
    assert first.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert "X-Request-ID" not in second.headers
    assert second.extensions["timeout"]["read"] == 30
    assert (quick.max_retries, client.max_retries) == (0, 3)
    assert quick.last_response is not None
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"


# -- the async client -----------------------------------------------------------------------------------------------


def test_the_async_client_retries_pages_and_waits_like_the_sync_one() -> None:
    statuses = iter(["pending", "running", "completed"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/agents/run"):
            return httpx.Response(202, json={"investigation_id": "inv_a", "status": "pending"})
        if request.url.path.endswith("/agents/investigations"):
            return _paged_investigations(3)(request)
        status = next(statuses)
        if status == "pending":
            raise httpx.ConnectError("blip")  # retried: a GET
        return httpx.Response(200, json={"investigation_id": "inv_a", "status": status})

    sleeps: list[float] = []
    seen_progress: list[str] = []

    async def scenario() -> tuple[str, list[str]]:
        async with _async_client(handler, sleeps) as client:
            inv = await client.investigate("m", on_progress=lambda i: seen_progress.append(i.status))
            ids = [item.investigation_id async for item in client.investigations.iterate(page_size=2)]
            return inv.status, ids

    status, ids = asyncio.run(scenario())
    assert status == "completed"
    assert ids == ["inv_0", "inv_1", "inv_2"]
    assert seen_progress == ["running", "completed"]
    assert 0.25 <= sleeps[0] <= 0.5  # the connection retry, then the 1 s poll
    assert sleeps[1:] == [1.0]


def test_the_async_client_raises_the_same_typed_errors() -> None:
    async def scenario() -> None:
        client = _async_client(_answers(httpx.ConnectError("down")), [], max_retries=1)
        await client.knowledge.status()

    with pytest.raises(APIConnectionError):
        asyncio.run(scenario())


def test_request_reaches_any_path_with_its_own_timeout_and_keeps_last_response() -> None:
    handler = _answers(httpx.Response(200, json={"status": "ok"}, headers={"X-Request-ID": "req_raw"}))
    client = _client(handler)
    assert client.request("GET", "/health", timeout=1.5) == {"status": "ok"}
    assert handler.seen[0].extensions["timeout"]["read"] == 1.5
    assert client.last_response is not None
    assert client.last_response.request_id == "req_raw"


# -- one surface, two clients ---------------------------------------------------------------------------------------


def test_the_async_client_offers_exactly_the_sync_clients_methods_with_the_same_parameters() -> None:
    import inspect

    from incidentfox import async_client, client

    def surface(module: Any, root: type) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        resources = {"": root}
        for name in ("Investigations", "Config", "Webhooks", "Integrations", "Knowledge", "Admin"):
            resources[name] = getattr(module, name)
        for prefix, cls in resources.items():
            for name, member in inspect.getmembers(cls, inspect.isfunction):
                if not name.startswith("_") and name not in ("close", "with_options"):
                    found[f"{prefix}.{name}"] = list(inspect.signature(member).parameters)
        return found

    sync_surface = surface(client, IncidentFoxClient)
    assert surface(async_client, AsyncIncidentFoxClient) == sync_surface
    assert len(sync_surface) >= 45


# -- the command line's progress ------------------------------------------------------------------------------------


class _Terminal:
    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.text = ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_the_cli_progress_redraws_one_line_on_a_terminal_and_prints_changes_elsewhere() -> None:
    from incidentfox import Investigation
    from incidentfox.cli import Progress

    running = Investigation.from_dict(
        {
            **STATUS,
            "elapsed_seconds": 15,
            "progress": {"current_step": "Querying CloudWatch metrics", "steps_completed": 3, "steps_total": 7},
        }
    )
    done = Investigation.from_dict({**STATUS, "status": "completed"})
    terminal = _Terminal(tty=True)
    show = Progress(terminal)
    for inv in (running, running, done):
        show(inv)
    assert terminal.text.count("\r\033[K") == 3
    assert "inv_t running 3/7 Querying CloudWatch metrics (15s)" in terminal.text
    assert terminal.text.endswith("done inv_t completed\n")

    log = _Terminal(tty=False)
    show = Progress(log)
    for inv in (running, running, done):
        show(inv)
    assert log.text == "inv_t running 3/7 Querying CloudWatch metrics (15s)\ninv_t completed\n"
