"""A loopback webhook receiver (ThreadingHTTPServer) and helpers to configure a team's URL and finish runs."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from investigations.models import Investigation, Status
from investigations.services import investigation_finish
from teamconfig.services import config_update
from tenancy.audit import RequestMeta
from tenancy.models import Node
from tests.investigations.conftest import start


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST with the next queued ``Reply`` (the last one repeats); records every request."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply()]
        self.requests: list[Received] = []
        self.release = threading.Event()
        self.release.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                receiver.arrived.set()
                receiver.release.wait(15)
                reply = receiver.replies.pop(0) if len(receiver.replies) > 1 else receiver.replies[0]
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(reply.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/incidentfox"

    def reply(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def last_json(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].body)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def private_targets(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True


def set_webhook_url(node: Node, url: str | None) -> None:
    config_update(
        node=node, patch={"webhooks": {"investigation_complete": url}}, meta=RequestMeta(actor="test"), admin=True
    )


@pytest.fixture
def configured(team: Node, receiver: Receiver, private_targets: None) -> Receiver:
    set_webhook_url(team, receiver.url)
    return receiver


def finish(team: Node, capture: Any, status: Status = Status.COMPLETED, **fields: Any) -> Investigation:
    """Start a run and finish it, running the after-commit callbacks (event, queueing, the immediate task)."""
    investigation = start(team)
    result = fields.pop("result", None)
    if status == Status.COMPLETED and result is None:
        result = {
            "summary": "Connection pool exhaustion on payments-db",
            "root_cause": {"description": "pool too small", "confidence": 92, "evidence": ["max connections hit"]},
            "recommendations": [{"priority": "high", "action": "Raise the pool size"}],
        }
    with capture(execute=True):
        assert investigation_finish(investigation_id=investigation.id, status=status, result=result, **fields)
    investigation.refresh_from_db()
    return investigation
