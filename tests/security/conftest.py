"""Loopback servers that count what reaches them: the proof that a refused request never left the process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class CountingServer:
    """Answers every GET/POST with ``answer`` and records each request (path, headers); bind any loopback IP."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.connections = 0  # TCP connections accepted, HTTP or not (a TLS hello to this server counts too)
        self.answer = Answer()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                owner.connections += 1
                super().setup()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                owner.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                answer = owner.answer
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, host: str | None = None, path: str = "") -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def reply_json(self, status: int, body: Any) -> None:
        self.answer = Answer(status, json.dumps(body).encode())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.stop()


@pytest.fixture
def no_loopback(settings: Any) -> Any:
    """The production default: tenant URLs may not reach loopback."""
    settings.EGRESS_ALLOW_LOOPBACK = False
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_ALLOWED_NETWORKS = []
    settings.EGRESS_DENIED_NETWORKS = []
    settings.EGRESS_DEPLOYMENT_ADDRESSES = []
    return settings
