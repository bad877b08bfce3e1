"""Loopback HTTP load for the bench scripts, closed loop (as fast as the server answers) or open loop (a fixed
request rate), and the CPU the server's processes spent meanwhile.

The client shares the two cores with the server, so it is built to cost little: HTTP/1.1 GET requests written as
bytes on keep-alive connections (``asyncio.Protocol`` on uvloop, a runtime dependency), responses framed by
``Content-Length`` alone: about 0.2 ms of CPU a request where httpx took 3-10 ms. Open-loop latencies are taken
from each request's scheduled time, so time spent waiting for a free connection or for the client's own event
loop counts (no coordinated omission). Idle connections are handed out first-in, first-out, so every connection,
and every web process that accepted one, gets its share of the load.

Every run is bounded by its duration; targets are only ever 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import collections
import os
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvloop

TIMEOUT_SECONDS = 10.0


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    server_cpu_ms: float | None = None  # CPU the server's processes spent per request (Linux)
    server_cpu_shares: tuple[float, ...] = ()  # each server process's part of that CPU

    def line(self, label: str) -> str:
        cpu = f"   server CPU {self.server_cpu_ms:.2f} ms/req" if self.server_cpu_ms is not None else ""
        return (
            f"{label:<34} {self.rps:7.0f} req/s   p50 {self.p50_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms{cpu}"
            f"   ({self.requests} requests, {self.errors} errors)"
        )


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time; ``response`` resolves to the status code."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.response: asyncio.Future[int] | None = None
        self.closed = False
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a uvloop transport, not asyncio's class

    def send(self, request: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.response = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.response

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:  # every answer of this server is framed by Content-Length; anything else is an error
            self.fail(ConnectionError("response without Content-Length"))
            return
        if len(self._buffer) < end + 4 + length:
            return
        del self._buffer[: end + 4 + length]
        if self.response is not None and not self.response.done():
            self.response.set_result(int(head[0].split(" ", 2)[1]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.fail(exc or ConnectionError("connection closed"))

    def fail(self, exc: Exception) -> None:
        if self.response is not None and not self.response.done():
            self.response.set_exception(exc)
        if self.transport is not None:
            self.transport.close()
        self.closed = True


class _Pool:
    """A fixed set of connections, handed out oldest-idle first; a connection that failed is replaced."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.idle: collections.deque[_Connection] = collections.deque()
        self.waiters: collections.deque[asyncio.Future[_Connection]] = collections.deque()
        self.all: list[_Connection] = []

    async def open(self, size: int) -> None:
        """Open ``size`` connections one after another, each answering one request before the next is opened:
        each accept is a separate race between the web processes, not one burst the first of them takes."""
        for _ in range(size):
            connection = await self._connect()
            await asyncio.wait_for(connection.send(self.request), TIMEOUT_SECONDS)
            self.idle.append(connection)

    async def _connect(self) -> _Connection:
        _, connection = await asyncio.get_running_loop().create_connection(_Connection, self.host, self.port)
        self.all.append(connection)
        return connection

    async def get(self, timeout: float) -> _Connection:
        """The connection idle longest, waiting up to ``timeout`` for one to come back."""
        if self.idle:
            connection = self.idle.popleft()
            return connection if not connection.closed else await self._connect()
        waiter: asyncio.Future[_Connection] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return await asyncio.wait_for(waiter, timeout)

    def put(self, connection: _Connection) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.idle.append(connection)

    def close(self) -> None:
        for connection in self.all:
            if connection.transport is not None:
                connection.transport.close()

    async def timed_get(self, scheduled: float, samples: list[float], errors: list[int]) -> None:
        """One request; its latency runs from ``scheduled`` (a monotonic time) to the end of its answer."""
        ok = False
        connection = None
        try:
            connection = await self.get(TIMEOUT_SECONDS - (time.monotonic() - scheduled))
            status = await asyncio.wait_for(
                connection.send(self.request), TIMEOUT_SECONDS - (time.monotonic() - scheduled)
            )
            ok = 200 <= status < 300
        except (OSError, TimeoutError, ValueError, IndexError):
            if connection is not None:
                connection.fail(ConnectionError("abandoned"))
        samples.append((time.monotonic() - scheduled) * 1000)
        if not ok:
            errors.append(1)
        if connection is not None:
            self.put(connection if not connection.closed else await self._replacement())

    async def _replacement(self) -> _Connection:
        try:
            return await self._connect()
        except OSError:
            return _Connection()  # closed: the next ``get`` connects again


def _summary(samples: list[float], errors: int, seconds: float) -> LoadResult:
    return LoadResult(
        rps=len(samples) / seconds,
        p50_ms=statistics.median(samples) if samples else 0.0,
        p99_ms=percentile(samples, 0.99),
        requests=len(samples),
        errors=errors,
    )


async def _closed_loop(pool: _Pool, concurrency: int, seconds: float, samples: list[float], errors: list[int]) -> None:
    async def one_client(stop_at: float) -> None:
        while (now := time.monotonic()) < stop_at:
            await pool.timed_get(now, samples, errors)

    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(one_client(stop_at) for _ in range(concurrency)))


async def _open_loop(pool: _Pool, rate: float, seconds: float, samples: list[float], errors: list[int]) -> None:
    """``rate`` requests a second on a fixed schedule, whatever the answers' latency."""
    tasks = []
    start = time.monotonic()
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(pool.timed_get(scheduled, samples, errors)))
    await asyncio.gather(*tasks)


def cpu_seconds(pids: Iterable[int]) -> list[float] | None:
    """User + system CPU time of each of these processes so far (Linux /proc), or None elsewhere."""
    times = []
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        times.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return times


def run_load(
    url: str,
    *,
    seconds: float,
    concurrency: int = 16,
    rate: float | None = None,
    connections: int = 64,
    warm_seconds: float = 0.0,
    headers: dict[str, str] | None = None,
    server_pids: Iterable[int] = (),
) -> LoadResult:
    """Load ``url`` for ``seconds``: at ``rate`` requests a second over ``connections`` keep-alive connections when
    given, else with ``concurrency`` clients (a connection each) as fast as the server answers. The same load runs
    first for ``warm_seconds`` unmeasured (the server's connection pools grow to what the load needs). With
    ``server_pids`` also measure their CPU per request and how it was shared among them."""
    assert url.startswith(("http://127.0.0.1", "http://localhost")), "load only ever targets loopback"
    pids = list(server_pids)
    samples: list[float] = []
    errors: list[int] = []
    cpu_before: list[float] | None = None

    async def main() -> None:
        nonlocal cpu_before
        pool = _Pool(url, headers or {})

        async def load(length: float, samples: list[float], errors: list[int]) -> None:
            if rate is not None:
                await _open_loop(pool, rate, length, samples, errors)
            else:
                await _closed_loop(pool, concurrency, length, samples, errors)

        try:
            await pool.open(connections if rate is not None else concurrency)
            if warm_seconds:
                await load(warm_seconds, [], [])
            cpu_before = cpu_seconds(pids) if pids else None
            await load(seconds, samples, errors)
        finally:
            pool.close()

    uvloop.run(main())
    cpu_after = cpu_seconds(pids) if pids else None
    result = _summary(samples, len(errors), seconds)
    if cpu_before is not None and cpu_after is not None and result.requests:
        spent = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
        result.server_cpu_ms = sum(spent) * 1000 / result.requests
        result.server_cpu_shares = tuple(part / sum(spent) if sum(spent) else 0.0 for part in spent)
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
