"""A hand-instrumented system on virtual machines: each service exports plain RED metrics with the Prometheus
client library (``requests_total{code}``, a ``request_duration_seconds`` summary with quantiles over a ten-minute
window, ``process_*``), scraped as ``job=<service>``, ``instance=<host>:8080``; node-exporter runs on every host
(``job="node"``, ``instance=<host>:9100``: the same host, another port). Some services expose a work-queue depth
gauge; in some systems clients count their calls per ``upstream``. Datastores are seen through their exporters."""

from __future__ import annotations

import random

from tests.support.metrics_sim.conventions.common import pod_fractions, scaled, serving
from tests.support.metrics_sim.conventions.exporters import render_datastore
from tests.support.metrics_sim.latent import GIB, Pod, Sim
from tests.support.metrics_sim.series import Builder

WINDOW_S = 600.0  # client_golang's default MaxAge for summary quantiles
CORES = 4


def render(sim: Sim, b: Builder, rng: random.Random) -> None:
    n = sim.cells
    upstream_counts = rng.random() < 0.5
    for comp in sim.topology.components:
        st = sim.states[comp.name]
        shares = pod_fractions(st, n)
        for pod in st.pods:
            _node(sim, b, comp.name, pod, rng)
            if comp.kind in ("datastore", "cache"):
                render_datastore(sim, b, comp.name, pod.ip)
            else:
                _service(sim, b, comp.name, pod, shares[pod.name], rng, upstream_counts)


def _service(
    sim: Sim, b: Builder, name: str, pod: Pod, share: list[float], rng: random.Random, upstream_counts: bool
) -> None:
    st = sim.states[name]
    comp = sim.topology.component(name)
    tgt = b.target(f"svc:{pod.name}").only(serving(pod))
    res = {"job": name, "instance": f"{pod.ip}:8080"}
    rps = scaled(st.rps, share)
    resets = pod.restarts
    if comp.kind != "batch":
        t_share = st.timeout_share
        for code, ratio in (
            ("200", [1 - e for e in st.err]),
            ("500", [e * (1 - t) for e, t in zip(st.err, t_share, strict=True)]),
            ("504", [e * t for e, t in zip(st.err, t_share, strict=True)]),
        ):
            b.counter(
                "requests",
                "Total requests served.",
                {**res, "code": code},
                tgt,
                [r * x for r, x in zip(rps, ratio, strict=True)],
                resets=resets,
            )
        b.summary(
            "request_duration_seconds",
            "Request latency.",
            res,
            tgt,
            count_rate=rps,
            p50=st.p50,
            p99=st.p99,
            quantiles=(0.5, 0.9, 0.99),
            window_s=WINDOW_S,
            resets=resets,
            unit="seconds",
        )
        if upstream_counts:
            for e in sim.topology.callees(name):
                es = sim.edges[(name, e.callee)]
                for code, ratio in (("ok", [1 - x for x in es.err]), ("error", es.err)):
                    b.counter(
                        "upstream_requests",
                        "Calls to upstream services.",
                        {**res, "upstream": e.callee, "code": code},
                        tgt,
                        [r * x for r, x in zip(scaled(es.rps, share), ratio, strict=True)],
                        resets=resets,
                    )
        if comp.kind == "service" and int.from_bytes(name.encode(), "big") % 3 == 0:
            b.gauge(
                "work_queue_depth", "Jobs waiting in the work queue.", {**res, "queue": f"{name}-jobs"}, tgt, st.queue
            )
    if random.Random(f"{sim.seed}:{name}:process").random() < 0.15:
        return  # a client library without the process collector (only its host's node-exporter shows resources)
    cpu = list(st.cpu) if comp.kind == "batch" else scaled(st.cpu, share)
    b.counter(
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds.",
        res,
        tgt,
        cpu,
        resets=resets,
        unit="seconds",
        integer=False,
    )
    b.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", res, tgt, pod.mem, unit="bytes")
    b.gauge(
        "process_open_fds",
        "Number of open file descriptors.",
        res,
        tgt,
        [30 + r * p * 2 for r, p in zip(rps, st.p50, strict=True)],
    )
    started = [sim.t(pod.start) if pod.start > 0 else sim.start - 3 * 86400.0] * sim.cells
    for r in sorted(pod.restarts):
        started[r:] = [sim.t(r)] * (sim.cells - r)
    b.gauge(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        res,
        tgt,
        started,
        unit="seconds",
    )
    del rng


def _node(sim: Sim, b: Builder, name: str, pod: Pod, rng: random.Random) -> None:
    """node-exporter on the pod's host (the host exists before and after the process runs)."""
    n = sim.cells
    st = sim.states[name]
    tgt = b.target(f"node:{pod.ip}").only(pod.alive)
    res = {"job": "node", "instance": f"{pod.ip}:9100"}
    cores = st.cpu if len(st.pods) == 1 else scaled(st.cpu, 1 / len(st.pods))
    used = [min(CORES * 0.98, 0.05 + c) for c in cores]
    iowait = [0.01 * (1 + 0.3 * rng.random()) + (0.3 if d > 0 else 0.0) for d in st.drops]
    for cpu in range(CORES):
        labels = {**res, "cpu": str(cpu)}
        for mode, rate in (
            ("user", [u / CORES * 0.8 for u in used]),
            ("system", [u / CORES * 0.2 for u in used]),
            ("iowait", [w / CORES for w in iowait]),
            ("idle", [max(0.0, 1 - u / CORES - w / CORES) for u, w in zip(used, iowait, strict=True)]),
        ):
            b.counter(
                "node_cpu_seconds",
                "Seconds the CPUs spent in each mode.",
                {**labels, "mode": mode},
                tgt,
                rate,
                unit="seconds",
                integer=False,
                start=1e6 * rng.uniform(1, 3),
            )
    total = 16 * GIB
    mem = pod.mem
    b.gauge(
        "node_memory_MemAvailable_bytes",
        "Memory information field MemAvailable_bytes.",
        res,
        tgt,
        [max(0.0, total - 1.5 * GIB - m) for m in mem],
        unit="bytes",
    )
    b.gauge(
        "node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.", res, tgt, [total] * n, unit="bytes"
    )
    fs = {**res, "device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/"}
    size = st.fs_limit + 4 * GIB
    b.gauge(
        "node_filesystem_avail_bytes",
        "Filesystem space available to non-root users in bytes.",
        fs,
        tgt,
        [max(0.0, size - 4 * GIB - f) for f in st.fs],
        unit="bytes",
    )
    b.gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", fs, tgt, [size] * n, unit="bytes")
    share = 1 / len(st.pods)
    nic = {**res, "device": "eth0"}
    b.counter(
        "node_network_receive_bytes",
        "Network device statistic receive_bytes.",
        nic,
        tgt,
        scaled(st.net_rx, share),
        unit="bytes",
        integer=False,
        start=1e11,
    )
    b.counter(
        "node_network_transmit_bytes",
        "Network device statistic transmit_bytes.",
        nic,
        tgt,
        scaled(st.net_tx, share),
        unit="bytes",
        integer=False,
        start=1e11,
    )
    b.counter(
        "node_network_transmit_drop",
        "Network device statistic transmit_drop.",
        nic,
        tgt,
        scaled(st.drops, share),
        start=float(rng.randint(0, 50)),
    )
