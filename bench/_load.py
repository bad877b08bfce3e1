"""Loopback HTTP load for the bench scripts: wrk when installed (accurate), else a small asyncio client.

Every run is bounded by its duration; targets are only ever 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    tool: str
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_ms: float | None = None  # CPU the server process spent per request (Linux, one process)

    def line(self, label: str) -> str:
        cpu = f"   server CPU {self.server_cpu_ms:.2f} ms/req" if self.server_cpu_ms is not None else ""
        return (
            f"{label:<32} {self.rps:8.0f} req/s   p50 {self.p50_ms:7.1f} ms   p99 {self.p99_ms:7.1f} ms{cpu}"
            f"   ({self.requests} requests, {self.errors} errors, {self.tool})"
        )


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _placement(server_pid: int | None) -> tuple[set[int], set[int]] | None:
    """(server's CPUs, the load generator's CPUs) when the server is pinned and CPUs are left for the load
    generator; None when it is not (``WEB_CPU_AFFINITY=off``, one CPU, several processes)."""
    if server_pid is None or not hasattr(os, "sched_getaffinity"):
        return None
    mine = os.sched_getaffinity(0)
    try:
        server = os.sched_getaffinity(server_pid)
    except OSError:
        return None
    rest = mine - server
    return (server, rest) if rest and server != mine else None


def load_generator_cpus(server_pid: int | None) -> set[int] | None:
    """The CPUs the load generator keeps to: a load generator on the server's own core would take CPU the server
    otherwise spends on requests."""
    placement = _placement(server_pid)
    return placement[1] if placement else None


def describe_placement(server_pid: int | None) -> str:
    """One line for a bench header: where the server and the load generator run."""
    placement = _placement(server_pid)
    if placement is None:
        return "server and load generator share all CPUs"
    server, rest = placement
    return f"server on CPU {sorted(server)}, load generator on CPU {sorted(rest)} (WEB_CPU_AFFINITY)"


def _wrk(
    url: str, concurrency: int, seconds: float, headers: dict[str, str], cpus: set[int] | None = None
) -> LoadResult:
    command = ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30, preexec_fn=pin
    ).stdout
    latency = {
        pct: _ms(value, unit) for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", output, re.M)
    }
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return LoadResult(rps, latency.get("50", 0.0), latency.get("99", 0.0), requests, errors, "wrk")


async def _client(url: str, headers: dict[str, str], stop_at: float, samples: list[float], errors: list[int]) -> None:
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                ok = (await client.get(url)).is_success
            except httpx.HTTPError:
                ok = False
            samples.append((time.perf_counter() - started) * 1000)
            if not ok:
                errors.append(1)


def _python(url: str, concurrency: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    samples: list[float] = []
    errors: list[int] = []

    async def main() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(_client(url, headers, stop_at, samples, errors) for _ in range(concurrency)))

    asyncio.run(main())
    ordered = sorted(samples) or [0.0]
    return LoadResult(
        rps=len(samples) / seconds,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        requests=len(samples),
        errors=len(errors),
        tool="python client",
        latencies_ms=samples,
    )


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(
    url: str,
    *,
    concurrency: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    server_pid: int | None = None,
) -> LoadResult:
    """Load ``url`` for ``seconds``; with ``server_pid`` (a single-process server) also measure its CPU per request."""
    assert url.startswith(("http://127.0.0.1", "http://localhost")), "load only ever targets loopback"
    cpu_before = _cpu_seconds(server_pid) if server_pid else None
    if shutil.which("wrk"):
        result = _wrk(url, concurrency, seconds, headers or {}, load_generator_cpus(server_pid))
    else:
        result = _python(url, concurrency, seconds, headers or {})
    cpu_after = _cpu_seconds(server_pid) if server_pid else None
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.server_cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    return result


@dataclass(frozen=True)
class Target:
    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Comparison:
    """Interleaved rounds against several URLs of one server: each round loads every target once, in turn.

    On a shared machine the speed drifts by tens of percent within a minute; runs taken back to back would put
    that drift into the ratio. Ratios are therefore taken within each round (same minute, same noise) and the
    median over rounds is reported, with the spread, so a reader sees how firm a figure is.
    """

    rounds: dict[str, list[LoadResult]]

    def median(self, label: str) -> LoadResult:
        """A summary of the target's rounds: median throughput, latency and CPU per request; summed counts."""
        results = self.rounds[label]
        cpu = [r.server_cpu_ms for r in results if r.server_cpu_ms is not None]
        return LoadResult(
            rps=statistics.median(r.rps for r in results),
            p50_ms=statistics.median(r.p50_ms for r in results),
            p99_ms=statistics.median(r.p99_ms for r in results),
            requests=sum(r.requests for r in results),
            errors=sum(r.errors for r in results),
            tool=f"{results[0].tool}, median of {len(results)} rounds",
            server_cpu_ms=statistics.median(cpu) if cpu else None,
        )

    def ratios(self, label: str, baseline: str) -> list[float]:
        """Throughput of ``label`` over ``baseline``, one per round."""
        return [a.rps / b.rps for a, b in zip(self.rounds[label], self.rounds[baseline], strict=True) if b.rps]

    def ratio_line(self, label: str, baseline: str) -> str:
        """``0.55 (rounds 0.49–0.61)``: the median of the per-round ratios and their range."""
        ratios = self.ratios(label, baseline)
        return f"{statistics.median(ratios):.2f} (rounds {min(ratios):.2f}–{max(ratios):.2f})"


BARE = "bare JSON view (/health)"
FLOOR = "bare DRF view (no auth, no limit)"
LIMITED = "DRF + shared rate-limit count"
LIMITED_READ = "DRF + limit count + 1 row read"


def with_baselines(base: str, measured: Target, *, read_floor_id: str | None = None) -> list[Target]:
    """``measured`` after the views every API figure is set against: the bare JSON view (``/health``), then the
    floors of ``bench.urls`` — DRF alone, DRF plus the shared rate-limit count every API response must make, and
    (with ``read_floor_id``, an investigation id) that plus one row read."""
    targets = [
        Target(BARE, f"{base}/health"),
        Target(FLOOR, f"{base}/bench/drf-floor"),
        Target(LIMITED, f"{base}/bench/drf-floor-limited"),
    ]
    if read_floor_id is not None:
        targets.append(Target(LIMITED_READ, f"{base}/bench/drf-floor-limited-read/{read_floor_id}"))
    return [*targets, measured]


def baseline_report(runs: Comparison, measured: str, *, name: str, target: float) -> list[str]:
    """The lines a bench prints for ``measured`` against the baselines of ``with_baselines``.

    A floor's ratio to the bare view is a ceiling: no endpoint that must do the floor's work can keep more of the
    bare view's throughput than the floor does, so it tells whether a target is reachable on this machine."""
    floors = [label for label in runs.rounds if label not in (BARE, measured)]
    summaries = {label: runs.median(label) for label in (BARE, *floors, measured)}
    lines = [summary.line(label) for label, summary in summaries.items()]
    lines.append(f"ratio {name}/bare: {runs.ratio_line(measured, BARE)} (target >= {target:.2f})")
    ceilings = "; ".join(f"{label}: {runs.ratio_line(label, BARE)}" for label in floors)
    lines.append(f"ceilings (floor/bare): {ceilings}")
    cpu = {label: summary.server_cpu_ms for label, summary in summaries.items()}
    if all(value is not None for value in cpu.values()):
        per_request = ", ".join(f"{label} {value:.2f} ms" for label, value in cpu.items())
        added = (cpu[measured] or 0) - (cpu[BARE] or 0)
        lines.append(f"server CPU per request (medians): {per_request} ({name}: {added:+.2f} ms over bare)")
    return lines


def compare(
    targets: list[Target], *, rounds: int, seconds: float, concurrency: int, server_pid: int | None = None
) -> Comparison:
    """Load every target for ``seconds`` in each of ``rounds`` rounds, interleaved (see ``Comparison``)."""
    results: dict[str, list[LoadResult]] = {target.label: [] for target in targets}
    for _ in range(rounds):
        for target in targets:
            result = run_load(
                target.url, concurrency=concurrency, seconds=seconds, headers=target.headers, server_pid=server_pid
            )
            results[target.label].append(result)
    return Comparison(results)


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout} s")
