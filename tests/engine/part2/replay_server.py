"""A loopback HTTP server that answers with recorded response bodies and records what it was asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDINGS = Path(__file__).parent / "recordings"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


Route = Callable[[Seen], tuple[int, Any, dict[str, str]]]


@dataclass
class Replay:
    routes: dict[tuple[str, str], Route]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


def recorded(name: str) -> Any:
    return json.loads((RECORDINGS / name).read_text())


def body(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Route:
    return lambda _seen: (status, payload, headers or {})


@contextmanager
def replay_server(routes: dict[tuple[str, str], Route]) -> Iterator[Replay]:
    replay = Replay(routes=routes)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command, parts.path, parse_qs(parts.query), dict(self.headers), json.loads(raw) if raw else None
            )
            replay.seen.append(seen)
            route = replay.routes.get((self.command, parts.path))
            status, payload, headers = route(seen) if route else (404, {"message": "Not Found"}, {})
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()  # bytes: sent as is
            self.send_response(status)
            if not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v.replace("{base}", replay.url))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    replay.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
