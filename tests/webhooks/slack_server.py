"""A loopback server speaking the Slack Web API wire format for ``chat.postMessage`` and ``chat.update``.

Requests arrive as slack_sdk sends them (JSON or form body, ``Authorization: Bearer <token>``); answers follow Slack's
shape: HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": "channel_not_found"}``, and ``429`` with
``Retry-After`` and ``{"ok": false, "error": "ratelimited"}`` when rate limited. ``script`` queues answers per method.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class SlackCall:
    method: str
    token: str
    body: dict[str, Any]


@dataclass
class FakeSlack:
    url: str
    calls: list[SlackCall] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # ts -> current text, as a channel would show it
    _next_ts: int = 100

    def answer(self, method: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.calls.append(SlackCall(method, token, body))
        planned = self.script.get(method)
        if planned:
            return planned.pop(0)
        if token != "xoxb-test-bot-token":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method == "chat.postMessage":
            self._next_ts += 1
            ts = f"1765100000.000{self._next_ts}"
            self.messages[ts] = str(body.get("text", ""))
            return 200, {"ok": True, "channel": "C0INCIDENTS", "ts": ts, "message": {"text": body.get("text")}}, {}
        if method == "chat.update":
            ts = str(body.get("ts", ""))
            if ts not in self.messages:
                return 200, {"ok": False, "error": "message_not_found"}, {}
            self.messages[ts] = str(body.get("text", ""))
            return 200, {"ok": True, "channel": body.get("channel"), "ts": ts, "text": body.get("text")}, {}
        return 404, {"ok": False, "error": "unknown_method"}, {}


def _handler(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw or "{}")
            else:
                body = dict(parse_qsl(raw))
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            status, answer, headers = slack.answer(self.path.rsplit("/", 1)[-1], body, token)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(slack))
    slack.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield slack
    finally:
        server.shutdown()
        server.server_close()
