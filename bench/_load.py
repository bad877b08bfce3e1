"""A small closed-loop HTTP load generator on loopback: N concurrent clients for a fixed duration."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, pct: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")

    def line(self, label: str) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")
        return (
            f"{label:<28} {self.rps:8.0f} req/s   p50 {median:6.1f} ms   p99 {self.percentile(99):6.1f} ms"
            f"   ({self.requests} requests, {self.errors} errors)"
        )


async def _client(url: str, headers: dict[str, str], stop_at: float, result: LoadResult, expect: int) -> None:
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                response = await client.get(url)
                ok = response.status_code == expect
            except httpx.HTTPError:
                ok = False
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.requests += 1
            result.errors += 0 if ok else 1


def run_load(url: str, *, concurrency: int, seconds: float, headers: dict[str, str] | None = None, expect: int = 200) -> LoadResult:
    result = LoadResult(requests=0, errors=0, seconds=seconds, latencies_ms=[])

    async def main() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(_client(url, headers or {}, stop_at, result, expect) for _ in range(concurrency)))

    asyncio.run(main())
    return result
