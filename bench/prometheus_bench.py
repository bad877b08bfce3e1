"""Investigation latency with Prometheus: 50 services x 24 h at 15 s resolution through the real connector.

The figure comes from a real Prometheus server (the Debian ``prometheus`` package; scripts/install-prometheus.sh):
24 h of 15 s samples for 50 services are generated as OpenMetrics text, backfilled into a temporary TSDB with
``promtool tsdb create-blocks-from openmetrics``, and served by ``prometheus`` on a free loopback port. Each
service has a request counter (``service``/``code`` labels) and a latency histogram (``le`` buckets) with
per-step noise; one service (svc-17) turns slow and starts failing 40 minutes before "now", which the report
must name. The engine runs its real Prometheus connector: discovery, series, PromQL ``rate`` and
``histogram_quantile`` range queries evaluated by Prometheus, anomaly detection, ranking and the report.

Only when the prometheus/promtool binaries are missing does it fall back to a loopback stand-in that speaks
the Prometheus HTTP API with precomputed series, and it says so loudly.

Run: .venv/bin/python bench/prometheus_bench.py
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import InvestigationContext, InvestigationRequest, investigate
from tests.engine.part2.prom_harness import serve_prometheus

SERVICES = [f"svc-{i:02d}" for i in range(50)]
CULPRIT = "svc-17"
STEP = 15
SPAN = 24 * 3600
NOW = datetime(2024, 1, 15, 15, 0, tzinfo=UTC)
ONSET = NOW.timestamp() - 40 * 60
RUNS = 5
LEAD = 10 * 60  # data starts this long before the 24 h window, so rate() has samples at its first step
BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)  # plus +Inf
READY_TIMEOUT = 60.0
BACKFILL_TIMEOUT = 300.0


# --- the real server -------------------------------------------------------------------------------------------


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * (1 + math.erf(math.log(x / median) / (sigma * math.sqrt(2))))


def _shapes(median: float, sigma: float, rng: random.Random) -> list[list[float]]:
    """Cumulative bucket fractions for a few jittered medians (per-step latency noise of about +-8 %)."""
    return [[_lognormal_cdf(le, median * (1 + rng.uniform(-0.08, 0.08)), sigma) for le in BUCKETS] for _ in range(16)]


def write_openmetrics(path: str) -> tuple[int, int]:
    """50 services' counters and histograms at 15 s over 24 h (plus a lead-in), one series at a time in time
    order, as promtool's backfill needs. Returns (series, samples)."""
    end = int(NOW.timestamp())
    times = list(range(end - SPAN - LEAD, end + 1, STEP))
    stamps = [f" {t}\n" for t in times]
    after = [t >= ONSET for t in times]
    les = [*(f"{le:g}" for le in BUCKETS), "+Inf"]
    series = 0
    # Each metric family must be contiguous: the histograms go to a side file that is appended at the end.
    with open(path, "w", buffering=1 << 20) as out, open(f"{path}.hist", "w+", buffering=1 << 20) as hist:
        out.write("# TYPE http_requests counter\n")
        for service in SERVICES:
            rng = random.Random(f"prometheus-bench:{service}")
            rate = 50 + rng.random() * 200
            normal = _shapes(0.03, 0.69, rng)  # p50 30 ms, p99 about 150 ms
            slow = _shapes(0.42, 0.69, rng)  # about 14x slower: p99 about 2 s
            ok = err = 0.0
            oks, errs = [], []
            buckets: list[list[int]] = [[] for _ in les]
            cum = [0.0] * len(les)
            for bad in after:
                n = rate * STEP * (1 + rng.uniform(-0.08, 0.08))
                failing = n * ((0.05 if bad and service == CULPRIT else 0.002) * (1 + rng.uniform(-0.3, 0.3)))
                err += failing
                ok += n - failing
                oks.append(round(ok))
                errs.append(round(err))
                shape = rng.choice(slow if bad and service == CULPRIT else normal)
                for i, fraction in enumerate(shape):
                    cum[i] += n * fraction
                    buckets[i].append(round(cum[i]))
                cum[-1] += n
                buckets[-1].append(round(cum[-1]))
            for code, values in (("200", oks), ("500", errs)):
                name = f'http_requests_total{{service="{service}",code="{code}"}} '
                out.write("".join([f"{name}{v}{s}" for v, s in zip(values, stamps, strict=True)]))
            for le, values in zip(les, buckets, strict=True):
                name = f'http_request_duration_seconds_bucket{{service="{service}",le="{le}"}} '
                hist.write("".join([f"{name}{v}{s}" for v, s in zip(values, stamps, strict=True)]))
            series += 2 + len(les)
        out.write("# TYPE http_request_duration_seconds histogram\n")
        hist.seek(0)
        shutil.copyfileobj(hist, out, 1 << 20)
        out.write("# EOF\n")
    return series, series * len(times)


@contextmanager
def real_prometheus(prometheus: str, promtool: str) -> Iterator[str]:
    """Generate, backfill and serve the data set; always stop the server and delete the temporary files."""
    with tempfile.TemporaryDirectory(prefix="prom-bench-") as tmp:
        started = time.perf_counter()
        source = os.path.join(tmp, "data.om")
        series, samples = write_openmetrics(source)
        generated = time.perf_counter() - started
        data = os.path.join(tmp, "tsdb")
        started = time.perf_counter()
        backfill = subprocess.run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--quiet",
                "--max-block-duration=24h",
                source,
                data,
            ],
            capture_output=True,
            timeout=BACKFILL_TIMEOUT,
            check=False,
        )
        if backfill.returncode != 0:
            raise RuntimeError(f"promtool backfill failed: {backfill.stderr.decode(errors='replace')[-2000:]}")
        os.remove(source)
        os.remove(f"{source}.hist")
        print(
            f"prometheus: generated {series:,} series / {samples:,} samples in {generated:.1f} s, "
            f"backfilled with promtool in {time.perf_counter() - started:.1f} s"
        )
        with serve_prometheus(
            prometheus,
            config="global:\n  evaluation_interval: 1m\nscrape_configs: []\n",
            data_dir=data,
            extra_args=["--storage.tsdb.retention.time=30d"],
            ready_timeout=READY_TIMEOUT,
        ) as url:
            yield url


# --- the stand-in (only without the prometheus binary) ---------------------------------------------------------


def _series(kind: str, service: str, start: float, end: float, step: float) -> list[list[object]]:
    rng = random.Random(f"{kind}:{service}")
    rate = 50 + random.Random(f"rate:{service}").random() * 200
    base = {"rate": rate, "errors": rate * 0.002, "p50": 0.03, "p95": 0.09, "p99": 0.15}[kind]  # errors: 5xx/s
    values = []
    t = start
    while t <= end:
        v = base * (1 + rng.uniform(-0.08, 0.08))
        if service == CULPRIT and kind in ("p95", "p99") and t >= ONSET:
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


@contextmanager
def stand_in() -> Iterator[str]:
    """The fake server runs in its own process, like a real Prometheus, so it does not share our GIL."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=30)}"
    finally:
        server.terminate()
        server.join(timeout=10)


# --- the measurement -------------------------------------------------------------------------------------------


def _measure(url: str) -> tuple[list[float], list[float], str]:
    request = InvestigationRequest(
        message="latency is up somewhere",
        context=InvestigationContext(time_window="24h"),
        data_sources={"prometheus": {"url": url, "timeout": 30}},
        now=NOW,
    )
    investigate(request)  # warm-up: the server's caches (and the stand-in's response cache); the engine keeps none
    timings, cpu, description = [], [], ""
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        report = investigate(request)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        description = report.root_cause.description
    return timings, cpu, description


def run() -> tuple[float, float, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus and promtool:
        server, source = real_prometheus(prometheus, promtool), "real Prometheus server"
    else:
        print(
            "prometheus: " + "!" * 100 + "\n"
            "prometheus: NOTE: prometheus/promtool NOT FOUND - the figure below is from the PYTHON STAND-IN, "
            "not a real Prometheus.\n"
            "prometheus: Install it with scripts/install-prometheus.sh (Debian package 'prometheus').\n"
            "prometheus: " + "!" * 100
        )
        server, source = stand_in(), "STAND-IN, not a real Prometheus"
    with server as url:
        timings, cpu, description = _measure(url)
    found = re.search(rf"\b{CULPRIT}\b", description) is not None
    print(
        f"prometheus ({source}): {len(SERVICES)} services x 24 h at {STEP} s ({SPAN // STEP:,} points per series): "
        f"median {statistics.median(timings):.2f} s per investigation (max {max(timings):.2f} s, {RUNS} runs; "
        f"engine CPU median {statistics.median(cpu):.2f} s, load average {os.getloadavg()[0]:.1f}; target < 2 s)"
    )
    print(f"prometheus: root cause names {CULPRIT}: {'yes' if found else 'NO'}: {description}")
    return statistics.median(timings), max(timings), description


if __name__ == "__main__":
    median, _, description = run()
    ok = median < 2.0 and re.search(rf"\b{CULPRIT}\b", description) is not None
    sys.exit(0 if ok else 1)
