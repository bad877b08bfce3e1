"""Loopback HTTP load for the bench scripts: a small asyncio client, closed loop (as fast as the server answers)
or open loop (a fixed request rate), and the CPU the server's processes spent meanwhile.

Every run is bounded by its duration; targets are only ever 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    server_cpu_ms: float | None = None  # CPU the server's processes spent per request (Linux)

    def line(self, label: str) -> str:
        cpu = f"   server CPU {self.server_cpu_ms:.2f} ms/req" if self.server_cpu_ms is not None else ""
        return (
            f"{label:<34} {self.rps:7.0f} req/s   p50 {self.p50_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms{cpu}"
            f"   ({self.requests} requests, {self.errors} errors)"
        )


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def _summary(samples: list[float], errors: int, seconds: float) -> LoadResult:
    return LoadResult(
        rps=len(samples) / seconds,
        p50_ms=statistics.median(samples) if samples else 0.0,
        p99_ms=percentile(samples, 0.99),
        requests=len(samples),
        errors=errors,
    )


async def _timed_get(client: httpx.AsyncClient, url: str, samples: list[float], errors: list[int]) -> None:
    started = time.perf_counter()
    try:
        ok = (await client.get(url)).is_success
    except httpx.HTTPError:
        ok = False
    samples.append((time.perf_counter() - started) * 1000)
    if not ok:
        errors.append(1)


def _closed_loop(url: str, concurrency: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    samples: list[float] = []
    errors: list[int] = []

    async def one_client(client: httpx.AsyncClient, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            await _timed_get(client, url, samples, errors)

    async def main() -> None:
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(headers=headers, timeout=10, limits=limits) as client:
            stop_at = time.monotonic() + seconds
            await asyncio.gather(*(one_client(client, stop_at) for _ in range(concurrency)))

    asyncio.run(main())
    return _summary(samples, len(errors), seconds)


def _open_loop(url: str, rate: float, seconds: float, headers: dict[str, str]) -> LoadResult:
    """``rate`` requests a second on a fixed schedule, whatever the answers' latency (no coordinated omission
    beyond the client's own event loop)."""
    samples: list[float] = []
    errors: list[int] = []

    async def main() -> None:
        async with httpx.AsyncClient(headers=headers, timeout=10, limits=httpx.Limits(max_connections=256)) as client:
            tasks = []
            start = time.monotonic()
            for n in range(int(rate * seconds)):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(_timed_get(client, url, samples, errors)))
            await asyncio.gather(*tasks)

    asyncio.run(main())
    return _summary(samples, len(errors), seconds)


def cpu_seconds(pids: Iterable[int]) -> float | None:
    """User + system CPU time of these processes so far (Linux /proc), or None elsewhere."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_load(
    url: str,
    *,
    seconds: float,
    concurrency: int = 16,
    rate: float | None = None,
    headers: dict[str, str] | None = None,
    server_pids: Iterable[int] = (),
) -> LoadResult:
    """Load ``url`` for ``seconds``: at ``rate`` requests a second when given, else with ``concurrency`` clients
    as fast as the server answers. With ``server_pids`` also measure their CPU per request."""
    assert url.startswith(("http://127.0.0.1", "http://localhost")), "load only ever targets loopback"
    pids = list(server_pids)
    cpu_before = cpu_seconds(pids) if pids else None
    if rate is not None:
        result = _open_loop(url, rate, seconds, headers or {})
    else:
        result = _closed_loop(url, concurrency, seconds, headers or {})
    cpu_after = cpu_seconds(pids) if pids else None
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.server_cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    return result


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout} s")
