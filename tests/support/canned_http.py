"""A loopback HTTP server answering canned JSON per path and recording each request's path and headers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Canned:
    url: str
    routes: dict[str, tuple[int, Any]]  # path (without the query) -> (status, JSON body)
    # (path, headers with lower-case names) of each request, in order
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@contextmanager
def canned_server(routes: dict[str, tuple[int, Any]]) -> Iterator[Canned]:
    canned = Canned(url="", routes=routes)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            canned.seen.append((path, {key.lower(): value for key, value in self.headers.items()}))
            status, body = canned.routes.get(path, (404, {"message": "not found"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    canned.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield canned
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
