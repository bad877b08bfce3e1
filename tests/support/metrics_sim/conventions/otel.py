"""OpenTelemetry SDKs exporting through the Collector's Prometheus exporter (resource attributes promoted to labels:
``service_name``, ``service_namespace``, ``service_instance_id``; ``job`` is ``<namespace>/<service>``), the
Collector's kubeletstats receiver for pods (``k8s_pod_name``, ``k8s_deployment_name``/``k8s_statefulset_name``) and
Tempo's metrics-generator service graph (``traces_service_graph_*{client,server}``; datastores appear as virtual
``server`` nodes). Datastores run no OpenTelemetry SDK: they are seen through the graph and their pods only."""

from __future__ import annotations

import random
import uuid
import zlib

from tests.support.metrics_sim.conventions.common import pod_fractions, restart_counts, scaled, serving
from tests.support.metrics_sim.latent import Pod, Sim
from tests.support.metrics_sim.series import Builder, Target

HTTP_LES = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
RPC_LES = (5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0, 10000.0)
GRAPH_LES = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8)
_ROUTES = ("/api/v1/{name}", "/api/v1/{name}/{{id}}", "/{name}/search", "/healthz")


def render(sim: Sim, b: Builder, rng: random.Random) -> None:
    ns = sim.topology.namespace
    n = sim.cells
    topo = sim.topology
    fractions = {name: pod_fractions(st, n) for name, st in sim.states.items()}
    for comp in topo.components:
        st = sim.states[comp.name]
        store = comp.kind in ("datastore", "cache")
        owner = (
            "k8s_statefulset_name" if store else ("k8s_cronjob_name" if comp.kind == "batch" else "k8s_deployment_name")
        )
        for pod in st.pods:
            share = fractions[comp.name][pod.name]
            kube = b.target("otel-collector:kubeletstats").only(serving(pod))
            labels = {
                "job": "otel-collector",
                "instance": "otel-collector:8889",
                "k8s_namespace_name": ns,
                "k8s_pod_name": pod.name,
                owner: comp.name,
                "k8s_node_name": f"node-{zlib.crc32(pod.name.encode()) % 7}",
            }
            cpu = list(st.cpu) if comp.kind == "batch" else scaled(st.cpu, share)
            b.counter(
                "k8s_pod_cpu_time_seconds",
                "Total CPU time (sum of all cores) spent by the pod.",
                labels,
                kube,
                cpu,
                resets=pod.restarts,
                unit="seconds",
                integer=False,
            )
            b.gauge("k8s_pod_memory_working_set_bytes", "Pod memory working set.", labels, kube, pod.mem, unit="bytes")
            b.gauge("k8s_pod_filesystem_usage_bytes", "Pod filesystem usage.", labels, kube, st.fs, unit="bytes")
            b.gauge(
                "k8s_pod_filesystem_capacity_bytes",
                "Pod filesystem capacity.",
                labels,
                kube,
                [st.fs_limit] * n,
                unit="bytes",
            )
            for direction, rate in (("receive", st.net_rx), ("transmit", st.net_tx)):
                b.counter(
                    "k8s_pod_network_io_bytes",
                    "Pod network IO.",
                    {**labels, "direction": direction, "interface": "eth0"},
                    kube,
                    scaled(rate, share if comp.kind != "batch" else 1.0),
                    resets=pod.restarts,
                    unit="bytes",
                    integer=False,
                )
            b.counter(
                "k8s_pod_network_errors",
                "Pod network errors.",
                {**labels, "direction": "transmit", "interface": "eth0"},
                kube,
                scaled(st.drops, share),
                resets=pod.restarts,
            )
            cluster = b.target("otel-collector:k8scluster").only(pod.alive)
            b.gauge(
                "k8s_container_restarts",
                "How many times the container has restarted in the recent past.",
                {**labels, "k8s_container_name": comp.name},
                cluster,
                restart_counts(pod, n, 0),
            )
            if not store:
                _sdk(sim, b, rng, comp.name, comp.grpc, pod, share)
    _service_graph(sim, b)


def _sdk(sim: Sim, b: Builder, rng: random.Random, name: str, grpc: bool, pod: Pod, share: list[float]) -> None:
    """What the service's own SDK exports: server duration histograms, process metrics, DB client pools."""
    ns = sim.topology.namespace
    st = sim.states[name]
    comp = sim.topology.component(name)
    tgt = b.target("otel-collector:prometheus").only(serving(pod))
    res = {
        "job": f"{ns}/{name}",
        "instance": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "service_name": name,
        "service_namespace": ns,
        "service_version": pod.version,
        "k8s_pod_name": pod.name,
    }
    rps = scaled(st.rps, share)
    if comp.kind != "batch":
        shape = b.shape(
            ("otel-srv", name, grpc), st.p50, st.p99, RPC_LES if grpc else HTTP_LES, 1000.0 if grpc else 1.0
        )
        ok = [r * (1 - e) for r, e in zip(rps, st.err, strict=True)]
        bad = [r * e for r, e in zip(rps, st.err, strict=True)]
        if grpc:
            svc = f"{''.join(w.capitalize() for w in name.split('-'))}Service"
            for method, weight in (("Get", 0.7), ("List", 0.3)):
                for code, rate in (("0", ok), ("14", bad)):
                    if code != "0" and sum(rate) * weight * 5 < 300:
                        continue  # rare failures: the error series exists but its histogram is not worth the bytes
                    labels = {
                        **res,
                        "rpc_system": "grpc",
                        "rpc_service": f"{ns}.{svc}",
                        "rpc_method": method,
                        "rpc_grpc_status_code": code,
                    }
                    b.histogram(
                        "rpc_server_duration_milliseconds",
                        "Measures the duration of inbound RPC.",
                        labels,
                        tgt,
                        count_rate=scaled(rate, weight),
                        shape=shape,
                        resets=pod.restarts,
                        unit="milliseconds",
                    )
        else:
            short = name.split("-")[0]
            routes = [r.format(name=short) for r in _ROUTES[:2]]
            weights = (0.65, 0.35)
            for route, weight in zip(routes, weights, strict=True):
                for code, rate in (("200", ok), ("500", bad)):
                    if code != "200" and sum(rate) * weight * 5 < 300:
                        continue
                    labels = {
                        **res,
                        "http_request_method": "GET" if weight < 0.5 else "POST",
                        "http_route": route,
                        "http_response_status_code": code,
                        "url_scheme": "http",
                    }
                    b.histogram(
                        "http_server_request_duration_seconds",
                        "Duration of HTTP server requests.",
                        labels,
                        tgt,
                        count_rate=scaled(rate, weight),
                        shape=shape,
                        resets=pod.restarts,
                        unit="seconds",
                    )
    if random.Random(f"{sim.seed}:{name}:runtime").random() >= 0.15:  # some SDKs lack runtime instrumentation
        _process(b, res, tgt, pod, list(st.cpu) if comp.kind == "batch" else scaled(st.cpu, share))
    for e in sim.topology.callees(name):
        if sim.topology.component(e.callee).kind != "datastore":
            continue
        pool = {**res, "pool_name": e.callee}
        used = scaled(st.pool_used, share)
        b.gauge(
            "db_client_connections_usage",
            "The number of connections that are currently in state described by the state attribute.",
            {**pool, "state": "used"},
            tgt,
            used,
        )
        b.gauge(
            "db_client_connections_usage",
            "The number of connections that are currently in state described by the state attribute.",
            {**pool, "state": "idle"},
            tgt,
            [max(0.0, 10 - u) for u in used],
        )
        b.gauge(
            "db_client_connections_pending_requests",
            "The number of pending requests for an open connection, cumulative for the entire pool.",
            pool,
            tgt,
            scaled(st.pool_pending, share),
        )


def _process(b: Builder, res: dict[str, str], tgt: Target, pod: Pod, cpu: list[float]) -> None:
    """OpenTelemetry runtime instrumentation: process CPU and memory."""
    for state, part in (("user", 0.8), ("system", 0.2)):
        b.counter(
            "process_cpu_time_seconds",
            "Total CPU seconds broken down by different states.",
            {**res, "state": state},
            tgt,
            scaled(cpu, part),
            resets=pod.restarts,
            unit="seconds",
            integer=False,
        )
    b.gauge(
        "process_cpu_utilization_ratio",
        "Difference in process.cpu.time since the last measurement, divided by the "
        "elapsed time and number of CPUs available to the process.",
        res,
        tgt,
        [c / 4 for c in cpu],
        unit="ratio",
    )
    b.gauge("process_memory_usage_bytes", "The amount of physical memory in use.", res, tgt, pod.mem, unit="bytes")


def _service_graph(sim: Sim, b: Builder) -> None:
    """Tempo's metrics-generator: one series per client/server pair (entry traffic comes from ``user``)."""
    tgt = b.target("tempo-metrics-generator")
    topo = sim.topology
    pairs: list[tuple[str, str, list[float], list[float], list[float], list[float], list[float], list[float]]] = []
    for c in topo.components:
        if c.kind == "entry":
            st = sim.states[c.name]
            pairs.append(("user", c.name, st.rps, st.err, st.p50, st.p99, st.p50, st.p99))
    for e in topo.edges:
        es = sim.edges[(e.caller, e.callee)]
        dest = sim.states[e.callee]
        # server-side latency is the callee's own (unlagged); the client waits for what it saw (lagged, refused).
        pairs.append((e.caller, e.callee, es.rps, es.err, dest.p50, dest.p99, es.p50, es.p99))
    for client, server, rps, err, s50, s99, c50, c99 in pairs:
        virtual = topo.component(server).kind in ("datastore", "cache")
        labels = {"client": client, "server": server, "job": "tempo", "instance": "tempo-metrics-generator:3200"}
        if virtual:
            labels["connection_type"] = "database"
        b.counter("traces_service_graph_request", "Total count of requests between two nodes", labels, tgt, rps)
        b.counter(
            "traces_service_graph_request_failed",
            "Total count of failed requests between two nodes",
            labels,
            tgt,
            [r * x for r, x in zip(rps, err, strict=True)],
        )
        b.histogram(
            "traces_service_graph_request_server_seconds",
            "Time for a request between two nodes as seen from the server",
            labels,
            tgt,
            count_rate=rps,
            shape=b.shape(("graph-srv", client, server), s50, s99, GRAPH_LES, 1.0),
            unit="seconds",
        )
        b.histogram(
            "traces_service_graph_request_client_seconds",
            "Time for a request between two nodes as seen from the client",
            labels,
            tgt,
            count_rate=rps,
            shape=b.shape(("graph-cli", client, server), c50, c99, GRAPH_LES, 1.0),
            unit="seconds",
        )
