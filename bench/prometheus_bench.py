"""Investigation latency with Prometheus: 50 services x 24 h at 15 s resolution through the real connector.

A loopback server speaks the Prometheus HTTP API (discovery, series, query_range, alerts) and answers with
precomputed series, so the figure measures the engine's side: HTTP + JSON decoding, anomaly detection over
every service's request rate, error ratio and latency quantiles, ranking and the report. One service
(svc-17) has a latency step 40 minutes before "now", which the report must name.

Run: .venv/bin/python bench/prometheus_bench.py
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import InvestigationContext, InvestigationRequest, investigate

SERVICES = [f"svc-{i:02d}" for i in range(50)]
CULPRIT = "svc-17"
STEP = 15
SPAN = 24 * 3600
NOW = datetime(2024, 1, 15, 15, 0, tzinfo=UTC)
RUNS = 5


def _series(kind: str, service: str, start: float, end: float, step: float) -> list[list[object]]:
    rng = random.Random(f"{kind}:{service}")
    base = {"rate": 50 + rng.random() * 200, "errors": 0.002, "p50": 0.03, "p95": 0.09, "p99": 0.15}[kind]
    onset = NOW.timestamp() - 40 * 60
    values = []
    t = start
    while t <= end:
        v = base * (1 + rng.uniform(-0.08, 0.08))
        if service == CULPRIT and kind in ("p95", "p99") and t >= onset:
            v = base * 14
        values.append([round(t, 3), f"{v:.6g}"])
        t += step
    return values


def _kind(expr: str) -> str:
    if "histogram_quantile(0.5," in expr:
        return "p50"
    if "histogram_quantile(0.95," in expr:
        return "p95"
    if "histogram_quantile(0.99," in expr:
        return "p99"
    return "errors" if "5.." in expr else "rate"


class _Prometheus(BaseHTTPRequestHandler):
    cache: dict[tuple[str, float, float, float], bytes] = {}

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        data: object
        if parts.path == "/api/v1/label/__name__/values":
            data = ["http_requests_total", "http_request_duration_seconds_bucket", "up"]
        elif parts.path == "/api/v1/series":
            data = [{"__name__": "http_requests_total", "service": s, "code": "200"} for s in SERVICES]
        elif parts.path.startswith("/api/v1/label/"):
            data = SERVICES
        elif parts.path == "/api/v1/alerts":
            data = {"alerts": []}
        elif parts.path == "/api/v1/query_range":
            start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
            only = re.search(r'service=~"([^"]+)"', q["query"])
            wanted = [s for s in SERVICES if only is None or re.fullmatch(only.group(1), s)]
            key = (_kind(q["query"]) + ",".join(wanted), start, end, step)
            if key not in self.cache:
                kind = _kind(q["query"])
                result = [{"metric": {"service": s}, "values": _series(kind, s, start, end, step)} for s in wanted]
                body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
                self.cache[key] = json.dumps(body).encode()
            self._send(self.cache[key])
            return
        else:
            data = {"resultType": "vector", "result": []}
        self._send(json.dumps({"status": "success", "data": data}).encode())

    def _send(self, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def _serve(ports: multiprocessing.Queue[int]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    ports.put(server.server_address[1])
    server.serve_forever()


def run() -> tuple[float, float, str]:
    """The fake server runs in its own process, like a real Prometheus, so it does not share our GIL."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    request = InvestigationRequest(
        message="latency is up somewhere",
        context=InvestigationContext(time_window="24h"),
        data_sources={"prometheus": {"url": url, "timeout": 60}},
        now=NOW,
    )
    try:
        investigate(request)  # warm the server's response cache; the engine keeps no state between runs
        timings, cpu, description = [], [], ""
        for _ in range(RUNS):
            started, started_cpu = time.perf_counter(), time.process_time()
            report = investigate(request)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            description = report.root_cause.description
    finally:
        server.terminate()
        server.join(timeout=10)
    print(
        f"prometheus: {len(SERVICES)} services x 24 h at {STEP} s ({SPAN // STEP:,} points per series): "
        f"median {statistics.median(timings):.2f} s per investigation (max {max(timings):.2f} s, {RUNS} runs; "
        f"engine CPU median {statistics.median(cpu):.2f} s, load average {os.getloadavg()[0]:.1f})"
    )
    print(f"prometheus: root cause: {description}")
    return statistics.median(timings), max(timings), description


if __name__ == "__main__":
    median, _, description = run()
    ok = median < 2.0 and re.search(rf"\b{CULPRIT}\b", description) is not None
    sys.exit(0 if ok else 1)
