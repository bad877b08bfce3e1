"""What the egress policy costs a data-source query: the same JSON GET to a loopback server, through a plain
``httpx`` client and through the pinned transport (``incidentfox_web/egress.py``) by name (``localhost``: one
DNS answer per transport, then the vetted address) and by IP. Keep-alive is on for all three, as in a run.

    .venv/bin/python bench/egress_bench.py [--requests 2000] [--rounds 5]

Prints the median per-request time of each path over interleaved rounds and the pinned paths' overhead. The server
runs in a forked process of its own (Linux).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ["EGRESS_ALLOW_LOOPBACK"] = "true"  # the bench server is on loopback

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402

from incidentfox_web.egress import PinnedTransport, policy_for  # noqa: E402

BODY = b'{"status":"success","data":{"resultType":"vector","result":[]}}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no delayed-ACK stalls on keep-alive

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: Any) -> None:
        pass


def _per_request_us(client: httpx.Client, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        client.get("/api/v1/query", params={"query": "up"}).raise_for_status()
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    # The server runs in a process of its own, so it does not share the client's GIL and blur the figures.
    serving = multiprocessing.get_context("fork").Process(target=server.serve_forever, daemon=True)
    serving.start()
    server.socket.close()
    policy = policy_for("data_source")
    clients = {
        "plain httpx (127.0.0.1)": httpx.Client(base_url=f"http://127.0.0.1:{port}"),
        "pinned, by IP": httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=PinnedTransport(policy)),
        "pinned, by name": httpx.Client(base_url=f"http://localhost:{port}", transport=PinnedTransport(policy)),
    }
    results: dict[str, list[float]] = {name: [] for name in clients}
    for client in clients.values():
        _per_request_us(client, 50)  # connections open, names resolved
    for _ in range(args.rounds):
        for name, client in clients.items():
            results[name].append(_per_request_us(client, args.requests))
    plain = statistics.median(results["plain httpx (127.0.0.1)"])
    print(f"{args.requests} GETs x {args.rounds} rounds, median per request:")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:26s} {median:8.1f} us  ({median - plain:+.1f} us vs plain)")
    for client in clients.values():
        client.close()
    serving.terminate()
    serving.join()


if __name__ == "__main__":
    main()
