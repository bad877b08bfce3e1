"""Spring Boot services with Micrometer's Prometheus registry: the component is the ``application`` common tag;
``job="kubernetes-pods"``, ``instance=<pod ip>:8080``, ``namespace`` and ``pod`` come from the scrape. HTTP timers
are summaries (``_count``/``_sum`` plus ``_max``; in some systems with ``publishPercentiles`` quantiles over a
two-minute window). Datastores are seen through their exporters (``job`` = the datastore)."""

from __future__ import annotations

import random

from tests.support.metrics_sim.conventions.common import pod_fractions, scaled, serving
from tests.support.metrics_sim.conventions.exporters import render_datastore
from tests.support.metrics_sim.latent import DT, MIB, Pod, Sim
from tests.support.metrics_sim.series import Builder, window_quantile

WINDOW_S = 120.0  # Micrometer's distributionStatisticExpiry


def render(sim: Sim, b: Builder, rng: random.Random) -> None:
    n = sim.cells
    percentiles = rng.random() < 0.5
    for comp in sim.topology.components:
        st = sim.states[comp.name]
        if comp.kind in ("datastore", "cache"):
            render_datastore(sim, b, comp.name, st.pods[0].ip)
            continue
        fractions = pod_fractions(st, n)
        for pod in st.pods:
            _app(sim, b, comp.name, pod, fractions[pod.name], percentiles)


def _app(sim: Sim, b: Builder, name: str, pod: Pod, share: list[float], percentiles: bool) -> None:
    n = sim.cells
    st = sim.states[name]
    comp = sim.topology.component(name)
    tgt = b.target(f"spring:{pod.name}").only(serving(pod))
    res = {
        "application": name,
        "job": "kubernetes-pods",
        "instance": f"{pod.ip}:8080",
        "namespace": sim.topology.namespace,
        "pod": pod.name,
    }
    rps = scaled(st.rps, share)
    resets = pod.restarts
    if comp.kind != "batch":
        short = name.split("-")[0]
        timeout = st.timeout_share
        outcomes = (
            ("200", "SUCCESS", "None", [1 - e for e in st.err]),
            (
                "500",
                "SERVER_ERROR",
                "IllegalStateException",
                [e * (1 - t) for e, t in zip(st.err, timeout, strict=True)],
            ),
            ("503", "SERVER_ERROR", "ResourceAccessException", [e * t for e, t in zip(st.err, timeout, strict=True)]),
        )
        for uri, weight, method in ((f"/api/{short}", 0.7, "GET"), (f"/api/{short}/{{id}}", 0.3, "POST")):
            for status, outcome, exception, ratio in outcomes:
                rate = [r * x * weight for r, x in zip(rps, ratio, strict=True)]
                if status != "200" and sum(rate) * DT < 1:
                    continue
                labels = {
                    **res,
                    "uri": uri,
                    "method": method,
                    "status": status,
                    "outcome": outcome,
                    "exception": exception,
                }
                b.summary(
                    "http_server_requests_seconds",
                    "",
                    labels,
                    tgt,
                    count_rate=rate,
                    p50=st.p50,
                    p99=st.p99,
                    quantiles=(0.5, 0.95, 0.99) if percentiles and status == "200" else (),
                    window_s=WINDOW_S,
                    resets=resets,
                    unit="seconds",
                )
                if status == "200":
                    at = list(tgt.cells)
                    counts = [r * DT for r in rate]
                    b.gauge(
                        "http_server_requests_seconds_max",
                        "",
                        labels,
                        tgt,
                        [
                            0.0 if x != x else x
                            for x in window_quantile(0.999, counts, st.p50, st.p99, int(WINDOW_S // DT), at)
                        ],
                        unit="seconds",
                    )
        for e in sim.topology.callees(name):
            callee = sim.topology.component(e.callee)
            if callee.kind in ("datastore", "cache"):
                continue
            es = sim.edges[(name, e.callee)]
            for status, ratio in (
                ("200", [1 - x for x in es.err]),
                ("500", [x * (1 - d) for x, d in zip(es.err, es.refused, strict=True)]),
                ("CLIENT_ERROR", [x * d for x, d in zip(es.err, es.refused, strict=True)]),
            ):
                rate = [r * x for r, x in zip(scaled(es.rps, share), ratio, strict=True)]
                if status != "200" and sum(rate) * DT < 1:
                    continue
                labels = {
                    **res,
                    "client_name": e.callee,
                    "method": "GET",
                    "uri": f"/api/{e.callee.split('-')[0]}",
                    "status": status,
                    "outcome": "SUCCESS" if status == "200" else "SERVER_ERROR",
                }
                b.summary(
                    "http_client_requests_seconds",
                    "",
                    labels,
                    tgt,
                    count_rate=rate,
                    p50=es.p50,
                    p99=es.p99,
                    quantiles=(),
                    window_s=WINDOW_S,
                    resets=resets,
                    unit="seconds",
                )
        busy = [min(200.0, r * p * 1.1) for r, p in zip(rps, st.p50, strict=True)]
        b.gauge("tomcat_threads_busy_threads", "", {**res, "name": "http-nio-8080"}, tgt, busy, unit="threads")
        b.counter(
            "logback_events",
            "Number of events that made it to the logs",
            {**res, "level": "error"},
            tgt,
            [r * e * 0.8 for r, e in zip(rps, st.err, strict=True)],
            resets=resets,
        )
        b.counter(
            "logback_events",
            "Number of events that made it to the logs",
            {**res, "level": "info"},
            tgt,
            [r * 0.3 for r in rps],
            resets=resets,
        )
    # JVM and process
    cpu = list(st.cpu) if comp.kind == "batch" else scaled(st.cpu, share)
    b.gauge(
        "process_cpu_usage",
        'The "recent cpu usage" for the Java Virtual Machine process',
        res,
        tgt,
        [min(1.0, c / 4) for c in cpu],
    )
    b.gauge(
        "system_cpu_usage",
        'The "recent cpu usage" of the system the application is running in',
        res,
        tgt,
        [min(1.0, 0.08 + c / 4) for c in cpu],
    )
    b.gauge("system_cpu_count", "The number of processors available to the Java virtual machine", res, tgt, [4.0] * n)
    old = [st.heap_max * min(0.99, 0.95 * m / st.mem_limit) for m in pod.mem]
    eden = [st.heap_max * 0.08 * (0.2 + 0.8 * ((i * 7) % 11) / 10) for i in range(n)]
    for area, ident, values in (
        ("heap", "G1 Old Gen", old),
        ("heap", "G1 Eden Space", eden),
        ("heap", "G1 Survivor Space", [st.heap_max * 0.01] * n),
        ("nonheap", "Metaspace", [95 * MIB] * n),
        ("nonheap", "CodeCache", [38 * MIB] * n),
    ):
        labels = {**res, "area": area, "id": ident}
        b.gauge("jvm_memory_used_bytes", "The amount of used memory", labels, tgt, values, unit="bytes")
        if ident == "G1 Old Gen":
            b.gauge(
                "jvm_memory_max_bytes",
                "The maximum amount of memory in bytes that can be used for memory management",
                labels,
                tgt,
                [st.heap_max] * n,
                unit="bytes",
            )
    gc = {**res, "action": "end of minor GC", "cause": "G1 Evacuation Pause", "gc": "G1 Young Generation"}
    pause = [0.006 * (1 + 30 * max(0.0, o / st.heap_max - 0.6) ** 2) for o in old]
    b.summary(
        "jvm_gc_pause_seconds",
        "Time spent in GC pause",
        gc,
        tgt,
        count_rate=[g / p for g, p in zip(st.gc, pause, strict=True)],
        p50=pause,
        p99=[p * 3 for p in pause],
        quantiles=(),
        window_s=WINDOW_S,
        resets=resets,
        unit="seconds",
    )
    b.gauge("jvm_gc_pause_seconds_max", "Time spent in GC pause", gc, tgt, [p * 4 for p in pause], unit="seconds")
    b.gauge(
        "jvm_threads_live_threads",
        "The current number of live threads",
        res,
        tgt,
        [40 + min(200.0, r * p * 1.1) for r, p in zip(rps, st.p50, strict=True)],
        unit="threads",
    )
    started = [sim.t(pod.start) if pod.start > 0 else sim.start - 86400.0] * n
    for r in sorted(pod.restarts):
        started[r:] = [sim.t(r)] * (n - r)
    b.gauge(
        "process_start_time_seconds", "Start time of the process since unix epoch.", res, tgt, started, unit="seconds"
    )
    b.gauge(
        "disk_free_bytes",
        "Usable space for path",
        {**res, "path": "/app/."},
        tgt,
        [max(0.0, st.fs_limit - f) for f in st.fs],
        unit="bytes",
    )
    b.gauge("disk_total_bytes", "Total space for path", {**res, "path": "/app/."}, tgt, [st.fs_limit] * n, unit="bytes")
    for e in sim.topology.callees(name):
        if sim.topology.component(e.callee).kind != "datastore":
            continue
        pool = {**res, "pool": f"{e.callee}-pool"}
        used = scaled(st.pool_used, share)
        pending = scaled(st.pool_pending, share)
        b.gauge("hikaricp_connections_active", "Active connections", pool, tgt, used)
        b.gauge("hikaricp_connections_idle", "Idle connections", pool, tgt, [max(0.0, 10 - u) for u in used])
        b.gauge("hikaricp_connections_pending", "Pending threads", pool, tgt, pending)
        b.gauge("hikaricp_connections_max", "Max connections", pool, tgt, [10.0] * n)
        b.counter(
            "hikaricp_connections_timeout",
            "Connection timeout total count",
            pool,
            tgt,
            [p * 0.2 for p in pending],
            resets=resets,
        )
