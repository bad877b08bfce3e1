"""The simulated system's hidden state on a fine time grid (5 s): traffic, latency, errors and resource use of every
component and every call, with the fault injected and its propagation to callers. Conventions render this state
into metric families; nothing here knows a metric name.

Propagation: a component's served latency is its own service time plus the (lagged, attenuated) latency of the
calls it waits for; its error ratio combines its own failures with the share of its callees' failures that its
retries and fallbacks do not absorb. A caller sees a callee's change ``Edge.lag_s`` later (tens of seconds).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from tests.support.metrics_sim.faults import Fault, FaultKind
from tests.support.metrics_sim.topology import Component, Topology

DT = 5.0  # seconds per grid cell
GIB = 1024.0**3
MIB = 1024.0**2


@dataclass
class Pod:
    """One replica: its name, address, lifetime on the grid, restarts (counters reset) and memory."""

    name: str
    ip: str
    start: int  # first grid index it exists
    end: int  # one past the last grid index it exists
    share: float  # its share of the component's traffic
    restarts: list[int] = field(default_factory=list)  # grid indices where its container restarted
    down: set[int] = field(default_factory=set)  # grid indices where its process is not running
    mem: list[float] = field(default_factory=list)  # working set bytes per cell
    version: str = "v1"

    def alive(self, i: int) -> bool:
        return self.start <= i < self.end


@dataclass
class State:
    """A component's hidden state per grid cell."""

    rps: list[float]  # requests per second it serves
    p50: list[float]  # served latency, seconds
    p99: list[float]
    err: list[float]  # ratio of failed responses
    timeout_share: list[float]  # share of failures that are timeouts (504) rather than 5xx errors
    cpu: list[float]  # cores, all replicas together
    throttle: list[float]  # share of CFS periods throttled
    net_rx: list[float]  # bytes/s
    net_tx: list[float]
    drops: list[float]  # packets dropped per second
    fs: list[float]  # filesystem bytes used
    gc: list[float]  # GC pause seconds per second (JVM services)
    pool_used: list[float]  # datastore connections in use (callers of datastores)
    pool_pending: list[float]
    queue: list[float]  # work queue depth
    mem_limit: float
    fs_limit: float
    heap_max: float
    pods: list[Pod] = field(default_factory=list)


@dataclass
class EdgeState:
    """A call as its caller sees it: request rate, failures, latency (lagged behind the callee)."""

    rps: list[float]
    err: list[float]
    p50: list[float]
    p99: list[float]
    refused: list[float]  # share of failures that are connection failures (callee down), not its 5xx


@dataclass
class Sim:
    topology: Topology
    fault: Fault
    start: float  # unix seconds of grid cell 0
    cells: int
    seed: int
    states: dict[str, State]
    edges: dict[tuple[str, str], EdgeState]
    notes: list[str]  # what the simulator injected besides the fault (for humans reading a case)

    def t(self, i: int) -> float:
        return self.start + i * DT

    def index(self, ts: float) -> int:
        return min(self.cells - 1, max(0, int((ts - self.start) // DT)))


def _ar_noise(rng: random.Random, n: int, sigma: float, keep: float = 0.9) -> list[float]:
    """Smooth noise: an AR(1) process with stationary standard deviation ``sigma``."""
    out, x, kick = [], rng.gauss(0, sigma), sigma * math.sqrt(1 - keep * keep)
    for _ in range(n):
        x = keep * x + rng.gauss(0, kick)
        out.append(x)
    return out


def _ramp(sim_start: float, n: int, onset: float, rise_s: float, end: float, fall_s: float = 30.0) -> list[float]:
    out = []
    for i in range(n):
        t = sim_start + i * DT
        if t < onset:
            out.append(0.0)
        elif t < end:
            out.append(min(1.0, (t - onset + DT) / max(rise_s, DT)))
        else:
            out.append(max(0.0, 1.0 - (t - end) / fall_s))
    return out


def _shift(values: list[float], cells: int) -> list[float]:
    """The series as seen ``cells`` later (the first values repeat)."""
    if cells <= 0:
        return list(values)
    return [values[0]] * cells + values[: len(values) - cells]


def _pod_hash(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def _make_pods(rng: random.Random, comp: Component, cells: int, subnet: int) -> list[Pod]:
    if comp.kind in ("datastore", "cache"):
        names = [f"{comp.name}-{k}" for k in range(comp.replicas)]
    elif comp.kind == "batch":
        names = [f"{comp.name}-{rng.randint(28_000_000, 29_999_999)}-{_pod_hash(rng, 5)}"]
    else:
        rs = _pod_hash(rng, 10)
        names = [f"{comp.name}-{rs}-{_pod_hash(rng, 5)}" for _ in range(comp.replicas)]
    shares = [rng.uniform(0.85, 1.15) for _ in names]
    total = sum(shares)
    return [
        Pod(name, f"10.{subnet}.{rng.randint(0, 255)}.{rng.randint(2, 254)}", 0, cells, s / total)
        for name, s in zip(names, shares, strict=True)
    ]


def _restart(pod: Pod, at: int, down_cells: int) -> None:
    if at < pod.start or at >= pod.end:
        return
    pod.restarts.append(at)
    pod.down.update(range(at, min(pod.end, at + down_cells)))


@dataclass
class _Base:
    rps: float
    p50: float
    tail: float
    err: float
    cpu_idle: float
    mem: float
    fs: float
    spiky: bool


def simulate(
    topology: Topology, fault: Fault, *, start: float, end: float, seed: int, noise_anomalies: bool = True
) -> Sim:
    """Simulate ``topology`` from ``start`` to ``end`` with ``fault`` injected."""
    rng = random.Random(seed)
    n = int((end - start) // DT) + 1
    notes: list[str] = []
    times = [start + i * DT for i in range(n)]
    comps = topology.components
    base: dict[str, _Base] = {}
    for c in comps:
        store = c.kind in ("datastore", "cache")
        base[c.name] = _Base(
            rps=rng.uniform(30, 250) if c.kind == "entry" else 0.0,
            p50=rng.uniform(0.0005, 0.004) if store else rng.uniform(0.003, 0.04),
            tail=rng.uniform(2.5, 6.0),
            err=rng.uniform(0.0002, 0.003),
            cpu_idle=rng.uniform(0.01, 0.06),
            mem=rng.uniform(1.5 * GIB, 6 * GIB) if store else rng.uniform(180 * MIB, 900 * MIB),
            fs=rng.uniform(5 * GIB, 40 * GIB) if store else rng.uniform(50 * MIB, 600 * MIB),
            spiky=False,
        )
    services = [c for c in comps if c.kind == "service" and c.name != fault.component]
    if noise_anomalies and services and rng.random() < 0.6:
        spiky = rng.choice(services)
        base[spiky.name].spiky = True
        notes.append(f"{spiky.name} has naturally spiky latency")

    # Diurnal traffic at the entries (peak mid-afternoon UTC), with smooth noise.
    phase = rng.uniform(-2, 2)
    amp = rng.uniform(0.25, 0.5)
    diurnal = [1 + amp * math.sin(2 * math.pi * (((t / 3600) % 24) - 10 + phase) / 24) for t in times]

    states: dict[str, State] = {}
    for idx, c in enumerate(comps):
        b = base[c.name]
        store = c.kind in ("datastore", "cache")
        states[c.name] = State(
            rps=[0.0] * n,
            p50=[b.p50] * n,
            p99=[b.p50 * b.tail] * n,
            err=[0.0] * n,
            timeout_share=[0.2] * n,
            cpu=[0.0] * n,
            throttle=[0.0] * n,
            net_rx=[0.0] * n,
            net_tx=[0.0] * n,
            drops=[0.0] * n,
            fs=[b.fs] * n,
            gc=[0.0] * n,
            pool_used=[0.0] * n,
            pool_pending=[0.0] * n,
            queue=[0.0] * n,
            mem_limit=(b.mem * rng.uniform(1.6, 2.5)) if store else rng.choice((512, 768, 1024, 1536, 2048)) * MIB,
            fs_limit=b.fs * rng.uniform(1.3, 2.0) if store else rng.choice((1, 2, 5)) * GIB,
            heap_max=rng.choice((256, 512, 768, 1024)) * MIB,
            pods=_make_pods(rng, c, n, 1 + idx % 250),
        )
        if states[c.name].mem_limit <= b.mem:
            states[c.name].mem_limit = b.mem * 1.8

    onset, stop = fault.onset, fault.onset + fault.duration_s
    s = fault.severity
    f = fault.component

    # --- traffic, callers first ---------------------------------------------------------------------------------
    order = topology.order_callees_first()
    noise = {c.name: _ar_noise(rng, n, 0.04) for c in comps}
    for c in reversed(order):
        st = states[c.name]
        if c.kind == "entry":
            b = base[c.name]
            st.rps = [b.rps * d * (1 + e) for d, e in zip(diurnal, noise[c.name], strict=True)]
        elif c.kind == "batch":
            st.rps = [0.0] * n
        for e in topology.callees(c.name):
            callee = states[e.callee]
            callee.rps = [a + r * e.calls_per_request for a, r in zip(callee.rps, st.rps, strict=True)]

    # --- own behaviour: service time, own errors, resources ---------------------------------------------------
    own_p50: dict[str, list[float]] = {}
    own_p99: dict[str, list[float]] = {}
    own_err: dict[str, list[float]] = {}
    down: dict[str, list[float]] = {}  # share of the component that is unreachable (refuses or hangs)
    hang: dict[str, float] = {}  # callers' timeout when the component hangs rather than refusing
    for c in comps:
        b, st = base[c.name], states[c.name]
        lat_noise = _ar_noise(rng, n, 0.06)
        tail_noise = _ar_noise(rng, n, 0.12, keep=0.7)
        mean_rps = max(1e-9, sum(st.rps) / n)
        own_p50[c.name] = [
            b.p50 * (1 + x) * (1 + 0.15 * (r / mean_rps - 1)) for x, r in zip(lat_noise, st.rps, strict=True)
        ]
        own_p99[c.name] = [p * b.tail * (1 + y) for p, y in zip(own_p50[c.name], tail_noise, strict=True)]
        own_err[c.name] = [max(0.0, b.err * (1 + 0.5 * x)) for x in _ar_noise(rng, n, 0.5, keep=0.5)]
        down[c.name] = [0.0] * n
        cpu_noise = _ar_noise(rng, n, 0.05)
        # Busy cores at the mean load: 0.05-1.2 per replica, proportional to traffic above an idle floor.
        per_rps = rng.uniform(0.05, 1.2) * c.replicas / mean_rps if mean_rps > 1e-6 else 0.0
        st.cpu = [
            (b.cpu_idle * c.replicas + per_rps * r) * (1 + x) + (0.02 if c.kind == "batch" else 0)
            for r, x in zip(st.rps, cpu_noise, strict=True)
        ]
        payload_in, payload_out = rng.uniform(300, 3000), rng.uniform(800, 20000)
        st.net_rx = [r * payload_in * (1 + x) + 2000 for r, x in zip(st.rps, cpu_noise, strict=True)]
        st.net_tx = [r * payload_out * (1 + x) + 3000 for r, x in zip(st.rps, cpu_noise, strict=True)]
        fs_growth = rng.uniform(0, 30) if c.kind in ("datastore", "cache") else rng.uniform(0, 3)  # bytes/s
        st.fs = [b.fs + fs_growth * i * DT for i in range(n)]
        gc_noise = _ar_noise(rng, n, 0.2, keep=0.6)
        st.gc = [max(0.0, 0.002 + 0.00002 * r) * (1 + x) for r, x in zip(st.rps, gc_noise, strict=True)]
        for pod in st.pods:
            pod_noise = _ar_noise(rng, n, 0.015, keep=0.97)
            level = b.mem * rng.uniform(0.9, 1.1)
            pod.mem = [level * (1 + x) for x in pod_noise]
        if b.spiky:
            i = 0
            while i < n:
                i += int(rng.expovariate(1 / (6 * 60 / DT)))
                width = rng.randint(3, 12)
                factor = rng.uniform(2.5, 8.0)
                for k in range(i, min(n, i + width)):
                    own_p50[c.name][k] *= 1 + (factor - 1) * 0.3
                    own_p99[c.name][k] *= factor
                i += width

    # --- unrelated anomalies -----------------------------------------------------------------------------------
    onset_i = int((onset - start) // DT)
    if noise_anomalies:
        batch = [c for c in comps if c.kind == "batch"]
        for c in batch:
            st = states[c.name]
            run_start = onset_i - int(rng.uniform(20, 70) * 60 / DT)
            run_len = int(rng.uniform(4, 15) * 60 / DT)
            cores = rng.uniform(1.0, 3.0)
            for k in range(max(0, run_start), min(n, run_start + run_len)):
                st.cpu[k] += cores * (1 + 0.05 * rng.gauss(0, 1))
                st.net_rx[k] += rng.uniform(2e6, 9e6)
                for pod in st.pods:
                    pod.mem[k] *= 2.2
            notes.append(f"{c.name} ran a CPU-heavy batch {int((onset_i - run_start) * DT / 60)} min before the onset")
        others = [c for c in comps if c.kind in ("service", "entry") and c.name != f]
        if others and rng.random() < 0.5:
            victim = rng.choice(others)
            pod = rng.choice(states[victim.name].pods)
            at = onset_i - int(rng.uniform(12, 60) * 60 / DT)
            if at > 0:
                _restart(pod, at, rng.randint(3, 6))
                notes.append(f"{pod.name} restarted {int((onset_i - at) * DT / 60)} min before the onset")

    # --- the fault -------------------------------------------------------------------------------------------
    fst = states[f]
    comp_f = topology.component(f)
    kind = fault.kind
    if kind is FaultKind.CPU_HOG:
        r = _ramp(start, n, onset, rng.uniform(5, 20), stop)
        r_slow = _shift(r, 1)
        cores = (1.0 + 2.5 * s) * comp_f.replicas**0.5
        limited = rng.random() < 0.7  # under a CPU limit the hog shows as throttling and slower service
        for i in range(n):
            fst.cpu[i] += cores * r[i] * (1 + 0.04 * rng.gauss(0, 1))
            fst.throttle[i] = max(fst.throttle[i], (0.25 + 0.6 * s) * r[i] if limited else 0.05 * r[i])
            slow = 1 + (1.5 + 3.5 * s) * r_slow[i] * (1 if limited else 0.5)
            own_p50[f][i] *= slow
            own_p99[f][i] *= slow * (1 + 0.5 * r_slow[i])
            own_err[f][i] += 0.01 * s * r_slow[i]
    elif kind is FaultKind.MEMORY_LEAK:
        fill_s = rng.uniform(4, 11) * 60
        for pod in fst.pods:
            speed = rng.uniform(0.85, 1.15)
            leaked = 0.0
            for i in range(n):
                t = times[i]
                if onset <= t < stop:
                    leaked += (fst.mem_limit - pod.mem[i]) / fill_s * speed * DT
                if pod.mem[i] + leaked >= fst.mem_limit * 0.995 and i not in pod.down:
                    _restart(pod, i, rng.randint(4, 8))  # OOMKilled: the container restarts, memory starts over
                    leaked = 0.0
                pod.mem[i] += leaked
        frac = [0.0] * n
        for i in range(n):
            alive = [p for p in fst.pods if p.alive(i)]
            frac[i] = sum(p.mem[i] for p in alive) / (len(alive) * fst.mem_limit) if alive else 0.0
        base_frac = sorted(frac[: max(1, onset_i)])[max(0, onset_i // 2)]
        for i in range(n):
            pressure = max(0.0, frac[i] - base_frac) / max(1e-9, 1 - base_frac)
            fst.gc[i] *= 1 + 40 * pressure**2
            own_p50[f][i] *= 1 + 1.5 * pressure**2
            own_p99[f][i] *= 1 + 6 * pressure**2
            fst.cpu[i] *= 1 + 0.8 * pressure**2
    elif kind is FaultKind.NETWORK_DELAY:
        r = _ramp(start, n, onset, DT, stop)
        delay = 0.08 + 0.6 * s
        for i in range(n):
            own_p50[f][i] += delay * r[i]
            own_p99[f][i] += delay * r[i] * rng.uniform(1.1, 1.4)
            fst.net_tx[i] *= 1 - 0.1 * r[i]
    elif kind is FaultKind.PACKET_LOSS:
        r = _ramp(start, n, onset, DT, stop)
        loss = 0.05 + 0.25 * s
        for i in range(n):
            own_p50[f][i] *= 1 + 2 * loss * r[i]
            own_p99[f][i] *= 1 + (4 + 30 * loss) * r[i]  # retransmission timeouts stretch the tail
            own_err[f][i] += 0.5 * loss * r[i] * (1 + 0.2 * rng.gauss(0, 1))
            fst.timeout_share[i] = 0.2 + 0.7 * r[i]
            packets = (fst.net_tx[i] + fst.net_rx[i]) / 1200
            fst.drops[i] += packets * loss * r[i]
            fst.net_tx[i] *= 1 + loss * r[i]  # retransmissions
    elif kind is FaultKind.ERROR_INJECTION:
        r = _ramp(start, n, onset, DT, stop)
        rate = 0.1 + 0.6 * s
        for i in range(n):
            own_err[f][i] += rate * r[i] * (1 + 0.1 * rng.gauss(0, 1))
            own_p50[f][i] *= 1 - 0.15 * r[i]
    elif kind is FaultKind.DISK_FILL:
        fill_s = rng.uniform(60, 240)
        start_fs = fst.fs[onset_i]
        full_at = onset + fill_s
        for i in range(n):
            t = times[i]
            if onset <= t < stop:
                fst.fs[i] = min(fst.fs_limit, start_fs + (fst.fs_limit - start_fs) * (t - onset) / fill_s)
                fst.cpu[i] += 0.3 * comp_f.replicas**0.5  # the runaway writer
                if t >= full_at:
                    own_err[f][i] += (0.3 + 0.6 * s) * (1 + 0.1 * rng.gauss(0, 1))
                    own_p50[f][i] *= 1.6
                    own_p99[f][i] *= 3
            elif t >= stop and stop < times[-1]:
                fst.fs[i] = start_fs
    elif kind is FaultKind.DEPENDENCY_OUTAGE:
        variant = fault.variant or "crash"
        first = onset_i + 1
        timeout = rng.uniform(1.0, 5.0)
        for i in range(first, n):
            if times[i] < stop:
                down[f][i] = 1.0
        if variant == "hang":
            hang[f] = timeout
            for i in range(first, n):
                if times[i] < stop:
                    fst.cpu[i] = base[f].cpu_idle * 0.3
                    fst.net_tx[i] *= 0.02
                    fst.net_rx[i] *= 0.3
        else:
            backoff, at = 10.0, first
            for pod in fst.pods:
                while at < n and times[at] < stop:
                    _restart(pod, at, int((backoff + 8) // DT))
                    at += int((backoff + 8) // DT) + 1
                    backoff = min(300.0, backoff * 2)
            for i in range(first, n):
                if times[i] < stop:
                    fst.cpu[i] *= 0.1
                    fst.net_tx[i] *= 0.01
                    fst.net_rx[i] *= 0.05
    elif kind is FaultKind.BAD_DEPLOY:
        old = fst.pods
        rs = _pod_hash(rng, 10)
        new = []
        step_cells = max(1, int(rng.uniform(15, 40) // DT))
        for k, pod in enumerate(old):
            born = onset_i + k * step_cells
            pod.end = min(pod.end, born + step_cells + 2)
            fresh = Pod(
                f"{f}-{rs}-{_pod_hash(rng, 5)}",
                f"10.{1 + k}.{rng.randint(0, 255)}.{rng.randint(2, 254)}",
                born,
                n,
                pod.share,
                version="v2",
            )
            fresh.mem = [m * rng.uniform(1.1, 1.5) for m in pod.mem]
            new.append(fresh)
        fst.pods = old + new
        rollout = [0.0] * n
        for i in range(n):
            alive_new = sum(p.share for p in new if p.alive(i))
            alive_old = sum(p.share for p in old if p.alive(i))
            rollout[i] = alive_new / max(1e-9, alive_new + alive_old)
        errors = rng.random() < 0.7
        slower = (not errors) or rng.random() < 0.5
        err_new = 0.05 + 0.4 * s
        slow_new = 1.5 + 2.5 * s
        cpu_new = rng.uniform(1.1, 1.8)
        for i in range(n):
            if errors:
                own_err[f][i] += err_new * rollout[i]
            if slower:
                own_p50[f][i] *= 1 + (slow_new - 1) * rollout[i]
                own_p99[f][i] *= 1 + (slow_new * 1.5 - 1) * rollout[i]
            fst.cpu[i] *= 1 + (cpu_new - 1) * rollout[i]

    # --- latency and errors, callees first --------------------------------------------------------------------
    edges: dict[tuple[str, str], EdgeState] = {}
    for c in order:
        st = states[c.name]
        p50 = list(own_p50[c.name])
        p99 = list(own_p99[c.name])
        ok = [1 - min(1.0, x) for x in own_err[c.name]]
        timeout_w = [st.timeout_share[i] * (1 - ok[i]) for i in range(n)]
        for e in topology.callees(c.name):
            callee = states[e.callee]
            lag = max(1, round(e.lag_s / DT))
            dn = _shift(down[e.callee], lag)
            c50, c99, cerr = _shift(callee.p50, lag), _shift(callee.p99, lag), _shift(callee.err, lag)
            t_out = hang.get(e.callee)
            store_call = topology.component(e.callee).kind in ("datastore", "cache")
            es = EdgeState(
                rps=[r * e.calls_per_request for r in st.rps],
                err=[0.0] * n,
                p50=[0.0] * n,
                p99=[0.0] * n,
                refused=[0.0] * n,
            )
            for i in range(n):
                d = dn[i]
                failing = d + (1 - d) * cerr[i]
                es.err[i] = failing
                es.refused[i] = d / failing if failing > 0 else 0.0
                slow50 = t_out if t_out is not None else 0.001
                es.p50[i] = (1 - d) * c50[i] + d * slow50 + 0.0004
                es.p99[i] = (1 - d) * c99[i] + d * (t_out if t_out is not None else 0.003) + 0.001
                w = e.sync_weight * min(1.5, e.calls_per_request)
                p50[i] += w * es.p50[i]
                p99[i] += e.sync_weight * es.p99[i]
                hurt = e.error_propagation * min(1.0, e.calls_per_request) * failing
                ok[i] *= 1 - hurt
                timeout_w[i] += hurt * (1.0 if t_out is not None else 0.2)
                if store_call:
                    demand = es.rps[i] * es.p50[i] * 1.3
                    st.pool_used[i] += min(10.0, demand)
                    st.pool_pending[i] += max(0.0, demand - 10.0) * 0.5
            edges[(c.name, e.callee)] = es
        st.p50, st.p99 = p50, [max(a, b) for a, b in zip(p99, p50, strict=True)]
        st.err = [1 - x for x in ok]
        st.timeout_share = [min(1.0, tw / e_) if e_ > 0 else 0.2 for tw, e_ in zip(timeout_w, st.err, strict=True)]
        # A slow component holds more work: its queue grows with its latency.
        b50 = sorted(st.p50[: max(1, onset_i)])[max(0, onset_i // 2)]
        st.queue = [max(0.0, 3 * (p / b50) ** 2 * (1 + 0.2 * rng.gauss(0, 1))) for p in st.p50]
        # Served traffic stops while the component is down or hangs.
        st.rps = [r * (1 - d) for r, d in zip(st.rps, down[c.name], strict=True)]
    for name, st in states.items():
        for pod in st.pods:
            for i in pod.down:
                st.err[i] = min(1.0, st.err[i] + 0.5 * pod.share) if down[name][i] == 0 else st.err[i]
    return Sim(topology, fault, start, n, seed, states, edges, notes)
