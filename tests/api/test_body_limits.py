"""Request bodies against a real server process (uvicorn, as ``make run`` serves): a body beyond the limit is
refused with 413 from its ``Content-Length`` before it is read, a chunked body is refused as soon as it passes the
limit, and a chunked body within it reaches the view whole (Django and DRF read a body without ``Content-Length``
as empty)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings

from investigations.models import Investigation
from teamconfig.models import NodeConfig
from tests.conftest import ApiCaller
from tests.investigations.test_real_workers import postgres  # noqa: F401
from tests.support.servers import child_env, uvicorn_servers

pytestmark = [pytest.mark.slow]

LIMIT = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
MIB = 1024 * 1024


@pytest.fixture
def standalone_server(tmp_path: Any) -> Iterator[str]:
    """A server on a database of its own: nothing here reaches the database."""
    env = child_env(DATABASE_URL=f"sqlite:///{tmp_path / 'server.sqlite3'}")
    with uvicorn_servers(1, env=env) as [base]:
        yield base


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response; reads until the server closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_an_unauthenticated_300_mib_body_is_refused_with_413_before_a_byte_of_it_is_read(standalone_server):
    sock = _connect(standalone_server)
    with sock:
        sock.sendall(
            b"POST /api/v1/agents/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(300 * MIB).encode() + b"\r\n\r\n"
        )  # the headers only: the answer must come without the body
        started = time.monotonic()
        status, headers, body = _read_response(sock)
    assert time.monotonic() - started < 5
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert error["message"] == f"Request body exceeds {LIMIT} bytes"
    assert error["request_id"] == headers["x-request-id"]


def test_a_chunked_body_is_refused_with_413_as_soon_as_it_passes_the_limit(standalone_server):
    sock = _connect(standalone_server)
    sent = 0
    with sock:
        sock.sendall(
            b"POST /api/v1/agents/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * MIB
        try:
            while sent < 300 * MIB:  # the server must stop this long before 300 MiB
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, body = _read_response(sock)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert sent < 64 * MIB  # refused near the limit, not after the whole body


def _chunked(base: str, method: str, path: str, token: str, payload: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(payload).encode()

    def pieces() -> Iterator[bytes]:  # a generator body: httpx sends it with Transfer-Encoding: chunked
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start : start + 64 * 1024]

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = httpx.Request(method, f"{base}/api/v1{path}", headers=headers, content=pieces())
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    with httpx.Client(timeout=30) as client:
        return client.send(request)


def test_a_chunked_run_request_reaches_the_view_whole(postgres, member: ApiCaller):  # noqa: F811
    content = "line of a log\n" * 70_000  # ~1 MiB per attachment, 3 MiB in all: within the run's 6 MiB
    attachments = [{"name": f"app-{n}.log", "content": content} for n in range(3)]
    payload = {
        "agent_name": "planner",
        "message": "checkout is slow",
        "async": True,
        "context": {"attachments": attachments},
    }
    with uvicorn_servers(1, env=child_env()) as [base]:
        response = _chunked(base, "POST", "/agents/run", member.token, payload)
    assert response.status_code == 202, response.text
    run = Investigation.objects.get(pk=response.json()["investigation_id"])
    assert run.message == "checkout is slow"
    assert [item["content"] for item in run.attachment_set.items] == [content] * 3


def test_a_chunked_config_write_is_applied(postgres, member: ApiCaller):  # noqa: F811
    with uvicorn_servers(1, env=child_env()) as [base]:
        response = _chunked(base, "PATCH", "/config/me", member.token, {"agents": {"planner": {"max_turns": 7}}})
    assert response.status_code == 200, response.text
    assert NodeConfig.objects.get(node=member.team).overrides["agents"]["planner"]["max_turns"] == 7


@pytest.mark.parametrize("byte", [b"\x00", b"\x01", b"\x7f"], ids=["NUL", "SOH", "DEL"])
def test_a_control_byte_in_a_header_is_refused_by_the_http_parser_with_a_plain_400_before_the_app_runs(
    standalone_server, byte
):
    """HTTP forbids control bytes in a field value (RFC 9110 §5.5); uvicorn's parser answers before any ASGI
    application is called, so the answer is its own, not the API's JSON error body (README, "Errors the HTTP
    server answers itself")."""
    sock = _connect(standalone_server)
    with sock:
        sock.sendall(b"GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Team-Id: team" + byte + b"a\r\n\r\n")
        status, headers, body = _read_response(sock)
    assert status == 400
    assert headers["content-type"].startswith("text/plain")
    assert "x-request-id" not in headers  # RequestIdMiddleware never saw it: no Django code ran
    assert not body.startswith(b"{")
