"""A real Prometheus server on loopback scraping a tiny exporter the test drives.

The exporter integrates request counts exactly: every scrape (and every change of behaviour) first
accumulates ``rate * dt`` into the counters and histogram buckets, so the series Prometheus stores are what
a real instrumented service would expose.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.support.net import free_port
from tests.support.tools import binary, stop

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Behaviour:
    rate: float = 50.0
    error_fraction: float = 0.0
    latency: float = 0.08  # every request takes this long (falls into one bucket)


@dataclass
class _State:
    behaviour: Behaviour
    ok: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0.0))
    total: float = 0.0
    latency_sum: float = 0.0


class Exporter:
    def __init__(self, services: dict[str, Behaviour]) -> None:
        self._lock = threading.Lock()
        self._states = {name: _State(b) for name, b in services.items()}
        self._last = time.time()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _advance(self) -> None:
        now = time.time()
        dt = now - self._last
        self._last = now
        for st in self._states.values():
            b = st.behaviour
            n = b.rate * dt
            st.errors += n * b.error_fraction
            st.ok += n * (1 - b.error_fraction)
            st.total += n
            st.latency_sum += n * b.latency
            for le in BUCKETS:
                if b.latency <= le:
                    st.buckets[le] += n

    def set(self, service: str, behaviour: Behaviour) -> float:
        """Change a service's behaviour now; returns the exact time of the change."""
        with self._lock:
            self._advance()
            self._states[service].behaviour = behaviour
            return self._last

    def render(self) -> str:
        with self._lock:
            self._advance()
            lines = [
                "# TYPE http_requests_total counter",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for name, st in sorted(self._states.items()):
                lines.append(f'http_requests_total{{service="{name}",code="200"}} {st.ok:.3f}')
                lines.append(f'http_requests_total{{service="{name}",code="500"}} {st.errors:.3f}')
                for le in BUCKETS:
                    lines.append(
                        f'http_request_duration_seconds_bucket{{service="{name}",le="{le}"}} {st.buckets[le]:.3f}'
                    )
                lines.append(f'http_request_duration_seconds_bucket{{service="{name}",le="+Inf"}} {st.total:.3f}')
                lines.append(f'http_request_duration_seconds_sum{{service="{name}"}} {st.latency_sum:.3f}')
                lines.append(f'http_request_duration_seconds_count{{service="{name}"}} {st.total:.3f}')
            return "\n".join(lines) + "\n"


def prometheus_binary() -> str:
    return binary(
        "prometheus",
        reason="PROMETHEUS BINARY NOT FOUND: the real-Prometheus engine tests did not run. "
        "Install it with scripts/install-prometheus.sh (Debian package 'prometheus').",
    )


@contextmanager
def serve_prometheus(
    binary: str, *, config: str, data_dir: str, extra_args: Sequence[str] = (), ready_timeout: float = 20.0
) -> Iterator[str]:
    """Serve ``data_dir`` with Prometheus (``config`` is the YAML text) on a free loopback port; always stop it."""
    with tempfile.TemporaryDirectory(prefix="prom-run-") as tmp:
        config_path = os.path.join(tmp, "prometheus.yml")
        log_path = os.path.join(tmp, "prometheus.log")
        with open(config_path, "w") as fh:
            fh.write(config)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(log_path, "wb") as log:  # a file, not a pipe: a chatty server can never block on a full pipe
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={data_dir}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                    *extra_args,
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                _wait_ready(url, proc, log_path, ready_timeout)
                yield url
            finally:
                stop(proc)


@contextmanager
def running_prometheus(exporter_port: int, *, scrape_interval: str = "1s") -> Iterator[str]:
    """Prometheus scraping the test exporter, with a temporary data dir."""
    config = (
        "global:\n"
        f"  scrape_interval: {scrape_interval}\n"
        f"  evaluation_interval: {scrape_interval}\n"
        "scrape_configs:\n"
        "  - job_name: shop\n"
        "    honor_labels: true\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter_port}']\n"
    )
    with (
        tempfile.TemporaryDirectory(prefix="prom-test-") as tmp,
        serve_prometheus(prometheus_binary(), config=config, data_dir=os.path.join(tmp, "data")) as url,
    ):
        yield url


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log_path, errors="replace") as log:
                raise RuntimeError(f"prometheus exited early: {log.read()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus did not become ready in {timeout:.0f} s")
