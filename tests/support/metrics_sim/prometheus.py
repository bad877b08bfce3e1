"""A real Prometheus serving generated data: backfill OpenMetrics text with promtool into a fresh TSDB, start
``prometheus`` with no scrape jobs on a free loopback port, wait until it answers, always stop it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.metrics_sim import openmetrics
from tests.support.metrics_sim.series import Family
from tests.support.net import free_port
from tests.support.tools import stop

READY_TIMEOUT = 60.0
BACKFILL_TIMEOUT = 600.0
CONFIG = "global:\n  scrape_interval: 15s\n  evaluation_interval: 1m\nscrape_configs: []\n"


class ToolMissing(RuntimeError):
    """The prometheus or promtool binary is not installed (scripts/install-prometheus.sh installs them)."""


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str


def find_binaries() -> Binaries:
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    if prom is None or tool is None:
        raise ToolMissing("prometheus/promtool not on PATH: run scripts/install-prometheus.sh")
    return Binaries(prom, tool)


def backfill(families: Iterable[Family], data_dir: Path, *, promtool: str, work_dir: Path) -> tuple[int, int]:
    """Write the families as OpenMetrics and turn them into TSDB blocks in ``data_dir``; returns (series, samples)."""
    source = work_dir / "data.om"
    with source.open("w", buffering=1 << 20) as out:
        series, samples = openmetrics.write(families, out)
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", str(source), str(data_dir)],
        capture_output=True,
        timeout=BACKFILL_TIMEOUT,
        check=False,
    )
    source.unlink()
    if result.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {result.stderr.decode(errors='replace')[-2000:]}")
    return series, samples


@contextmanager
def serve(data_dir: Path, *, prometheus: str, ready_timeout: float = READY_TIMEOUT) -> Iterator[str]:
    """Run Prometheus over ``data_dir``; yields its base URL; always stops it."""
    config = data_dir.parent / f"{data_dir.name}-prometheus.yml"
    config.write_text(CONFIG)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir.parent / f"{data_dir.name}-prometheus.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data_dir}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{port}",
                "--query.lookback-delta=5m",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            deadline = time.monotonic() + ready_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"prometheus exited: {log.read_text(errors='replace')[-2000:]}")
                try:
                    if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("prometheus did not become ready in time")
                time.sleep(0.1)
            yield url
        finally:
            stop(process)


@contextmanager
def loaded(families: Iterable[Family], *, binaries: Binaries | None = None) -> Iterator[str]:
    """A temporary Prometheus holding ``families``; yields its base URL; removes everything afterwards."""
    bins = binaries or find_binaries()
    with tempfile.TemporaryDirectory(prefix="metrics-sim-") as tmp:
        work = Path(tmp)
        data = work / "tsdb"
        data.mkdir()
        backfill(families, data, promtool=bins.promtool, work_dir=work)
        with serve(data, prometheus=bins.prometheus) as url:
            yield url


@contextmanager
def empty(*, binaries: Binaries | None = None) -> Iterator[str]:
    """A temporary Prometheus with an empty TSDB (a data source to connect to); yields its base URL."""
    bins = binaries or find_binaries()
    with tempfile.TemporaryDirectory(prefix="prometheus-empty-") as tmp:
        data = Path(tmp) / "tsdb"
        data.mkdir()
        with serve(data, prometheus=bins.prometheus) as url:
            yield url
