"""The bench's load client (``bench/_load.py``) reports what a user would see: every scheduled request, errors
counted, queueing counted in the latency, and the load spread over all its connections."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench._load import run_load


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the web server answers
    server: _Server

    def do_GET(self) -> None:
        self.server.peers[self.client_address[1]] += 1
        time.sleep(self.server.delay)
        status = 500 if self.path == "/fail" else 200
        body = b'{"status": "ok"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    delay = 0.0
    peers: Counter[int]


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.peers = Counter()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: _Server, path: str = "/ok") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_the_open_loop_sends_its_rate_for_its_duration(server: _Server) -> None:
    result = run_load(_url(server), seconds=0.5, rate=100, connections=4)

    assert (result.requests, result.errors) == (50, 0)
    assert 0 < result.p50_ms <= result.p99_ms < 1000


def test_non_2xx_answers_are_counted_as_errors(server: _Server) -> None:
    result = run_load(_url(server, "/fail"), seconds=0.2, rate=50, connections=2)

    assert result.errors == result.requests == 10


def test_time_spent_waiting_for_a_connection_counts_in_the_latency(server: _Server) -> None:
    server.delay = 0.05  # one connection answers 20 requests a second; 40 a second are scheduled
    result = run_load(_url(server), seconds=0.5, rate=40, connections=1)

    # The last of 20 requests was scheduled at 0.475 s and answered at about 20 x 0.05 = 1 s: the latency it
    # reports runs from its scheduled time, not from when a connection became free.
    assert result.requests == 20
    assert result.p99_ms > 400


def test_requests_are_spread_over_every_connection(server: _Server) -> None:
    run_load(_url(server), seconds=0.5, rate=80, connections=4)

    per_connection = sorted(server.peers.values())
    assert len(per_connection) == 4
    assert per_connection[-1] - per_connection[0] <= 2  # the one warm-up request each, then first-in, first-out


def test_the_warm_up_runs_the_same_load_unmeasured(server: _Server) -> None:
    result = run_load(_url(server), seconds=0.2, rate=50, connections=2, warm_seconds=0.2)

    assert result.requests == 10
    assert sum(server.peers.values()) == 2 + 10 + 10  # one request per new connection, the warm-up, the run
