"""The ASGI → WSGI bridge that serves every short request: bodies in, responses out, streams in batches."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from incidentfox_web import wsgi_bridge
from incidentfox_web.wsgi_bridge import ThreadedWsgi


def _scope(method: str = "GET", path: str = "/", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"a=1",
        "http_version": "1.1",
        "headers": headers or [],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


def _serve(app: ThreadedWsgi, scope: dict[str, Any], chunks: list[bytes] | None = None) -> list[dict[str, Any]]:
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks or []) - 1}
        for i, c in enumerate(chunks or [b""])
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


class _Closing:
    """A WSGI response iterable that records where and how often it was closed."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts
        self.closed_in: list[str] = []

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)

    def close(self) -> None:
        self.closed_in.append(threading.current_thread().name)


def test_a_plain_response_is_sent_as_one_start_and_one_body():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("201 Created", [("Content-Type", "application/json"), ("X-Request-ID", "abc")])
        return [b'{"ok":', b" true}"]

    sent = _serve(ThreadedWsgi(app, threads=2), _scope())
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"x-request-id", b"abc")],
        },
        {"type": "http.response.body", "body": b'{"ok": true}'},
    ]


def test_the_request_body_and_environ_reach_the_application():
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(
            body=environ["wsgi.input"].read(),
            method=environ["REQUEST_METHOD"],
            query=environ["QUERY_STRING"],
            auth=environ.get("HTTP_AUTHORIZATION"),
            remote=environ["REMOTE_ADDR"],
        )
        start_response("200 OK", [])
        return []

    scope = _scope("POST", headers=[(b"authorization", b"Bearer x"), (b"content-length", b"11")])
    _serve(ThreadedWsgi(app, threads=1), scope, [b"hello ", b"world"])
    assert seen == {"body": b"hello world", "method": "POST", "query": "a=1", "auth": "Bearer x", "remote": "127.0.0.1"}


def test_a_long_stream_is_sent_in_order_in_batches_and_closed_once_on_a_worker_thread(monkeypatch):
    monkeypatch.setattr(wsgi_bridge, "BATCH_BYTES", 10)
    body = _Closing([b"0123456789", b"abcdefghij", b"KLMNOPQRST", b"xyz"])

    def app(environ: dict[str, Any], start_response: Any) -> _Closing:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    sent = _serve(ThreadedWsgi(app, threads=2), _scope())
    bodies = [message for message in sent if message["type"] == "http.response.body"]
    assert b"".join(message["body"] for message in bodies) == b"0123456789abcdefghijKLMNOPQRSTxyz"
    assert [message.get("more_body", False) for message in bodies] == [True, True, True, False]
    assert len(body.closed_in) == 1
    assert body.closed_in[0].startswith("wsgi")


def test_a_client_that_leaves_mid_stream_still_gets_its_response_closed(monkeypatch):
    monkeypatch.setattr(wsgi_bridge, "BATCH_BYTES", 1)
    body = _Closing([b"a", b"b", b"c"])

    def app(environ: dict[str, Any], start_response: Any) -> _Closing:
        start_response("200 OK", [])
        return body

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message.get("more_body"):
            raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        asyncio.run(ThreadedWsgi(app, threads=1)(_scope(), receive, send))
    assert len(body.closed_in) == 1


def test_a_client_that_disconnects_before_sending_its_body_never_reaches_the_application():
    called = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        called.append(True)
        start_response("200 OK", [])
        return []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing may be sent")

    asyncio.run(ThreadedWsgi(app, threads=1)(_scope("POST"), receive, send))
    assert called == []


def test_django_is_served_through_the_bridge(db):
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    bridge = ThreadedWsgi(get_wsgi_application(), threads=1)
    try:
        sent = _serve(bridge, _scope(path="/health", headers=[(b"host", b"127.0.0.1")]))
    finally:
        bridge.executor.submit(connections.close_all).result()  # the worker thread's own database connection
        bridge.executor.shutdown()
    assert sent[0]["status"] == 200
    assert sent[-1]["body"] == b'{"status": "ok"}'
