"""Kubernetes with Istio: cAdvisor (via the kubelet), kube-state-metrics, kubelet volume stats and Istio's standard
metrics. The component is the workload; pods are named ``<deployment>-<replicaset hash>-<suffix>`` (datastores are
StatefulSets: ``<name>-0``). Istio series carry the scraped envoy's ``namespace``/``pod``: a ``reporter="source"``
series lives on the caller's pod."""

from __future__ import annotations

import random
import zlib

from tests.support.metrics_sim.conventions.common import (
    place_pods,
    pod_fractions,
    restart_counts,
    scaled,
    serving,
)
from tests.support.metrics_sim.latent import MIB, Pod, Sim
from tests.support.metrics_sim.series import Builder

ISTIO_LES = (1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0)
GATEWAY = "istio-ingressgateway"


def render(sim: Sim, b: Builder, rng: random.Random) -> None:
    ns = sim.topology.namespace
    n = sim.cells
    nodes = place_pods(sim, rng)
    ksm = b.target("kube-state-metrics")
    ksm_instance = f"10.{rng.randint(0, 63)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}:8080"
    fractions = {name: pod_fractions(st, n) for name, st in sim.states.items()}
    plain = [c.name for c in sim.topology.components if c.kind == "service"]
    unmeshed = rng.choice(plain) if plain and rng.random() < 0.3 else None
    images = {
        c.name: f"registry.example.com/{ns}/{c.name}:{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
        for c in sim.topology.components
    }
    for comp in sim.topology.components:
        st = sim.states[comp.name]
        for pod in st.pods:
            node = nodes.get(pod.name) or rng.choice(list(set(nodes.values())))
            share = fractions[comp.name][pod.name]
            cad = b.target(f"cadvisor:{pod.name}").only(serving(pod))
            exists = b.target(f"cadvisor:{pod.name}").only(pod.alive)
            base = {"instance": node, "job": "kubernetes-nodes-cadvisor", "namespace": ns, "pod": pod.name}
            app = {**base, "container": comp.name, "image": images[comp.name]}
            proxy = {**base, "container": "istio-proxy", "image": "docker.io/istio/proxyv2:1.20.3"}
            whole = {**base, "container": ""}
            rps_pod = scaled(st.rps, share)
            cpu = scaled(st.cpu, share) if comp.kind != "batch" else list(st.cpu)
            proxy_cpu = [0.015 + 0.00035 * r for r in rps_pod]
            help_cpu = "Cumulative cpu time consumed in seconds."
            b.counter(
                "container_cpu_usage_seconds",
                help_cpu,
                app,
                cad,
                cpu,
                resets=pod.restarts,
                unit="seconds",
                integer=False,
            )
            if comp.kind != "batch" and comp.name != unmeshed:
                b.counter(
                    "container_cpu_usage_seconds", help_cpu, proxy, exists, proxy_cpu, unit="seconds", integer=False
                )
            b.counter(
                "container_cpu_usage_seconds",
                help_cpu,
                whole,
                exists,
                [a + c for a, c in zip(cpu, proxy_cpu, strict=True)],
                unit="seconds",
                integer=False,
            )
            b.counter(
                "container_cpu_cfs_periods",
                "Number of elapsed enforcement period intervals.",
                app,
                cad,
                [10.0] * n,
                resets=pod.restarts,
                integer=False,
            )
            b.counter(
                "container_cpu_cfs_throttled_periods",
                "Number of throttled period intervals.",
                app,
                cad,
                [10.0 * t for t in st.throttle],
                resets=pod.restarts,
                integer=False,
            )
            help_ws = "Current working set of the container in bytes."
            b.gauge("container_memory_working_set_bytes", help_ws, app, cad, pod.mem, unit="bytes")
            b.gauge("container_memory_working_set_bytes", help_ws, proxy, exists, [62 * MIB] * n, unit="bytes")
            b.gauge(
                "container_memory_working_set_bytes",
                help_ws,
                whole,
                exists,
                [m + 62 * MIB for m in pod.mem],
                unit="bytes",
            )
            b.gauge(
                "container_spec_memory_limit_bytes",
                "Memory limit for the container.",
                app,
                cad,
                [st.mem_limit] * n,
                unit="bytes",
            )
            net = {**base, "interface": "eth0"}
            b.counter(
                "container_network_receive_bytes",
                "Cumulative count of bytes received",
                net,
                exists,
                scaled(st.net_rx, share if comp.kind != "batch" else 1.0),
                unit="bytes",
                integer=False,
            )
            b.counter(
                "container_network_transmit_bytes",
                "Cumulative count of bytes transmitted",
                net,
                exists,
                scaled(st.net_tx, share if comp.kind != "batch" else 1.0),
                unit="bytes",
                integer=False,
            )
            b.counter(
                "container_network_transmit_packets_dropped",
                "Cumulative count of packets dropped while transmitting",
                net,
                exists,
                scaled(st.drops, share),
                integer=True,
            )
            if comp.kind in ("datastore", "cache"):
                pvc = {"namespace": ns, "persistentvolumeclaim": f"data-{pod.name}", "job": "kubelet", "instance": node}
                kub = b.target(f"kubelet:{node}")
                b.gauge(
                    "kubelet_volume_stats_used_bytes",
                    "Number of used bytes in the volume",
                    pvc,
                    kub,
                    st.fs,
                    unit="bytes",
                )
                b.gauge(
                    "kubelet_volume_stats_capacity_bytes",
                    "Capacity in bytes of the volume",
                    pvc,
                    kub,
                    [st.fs_limit] * n,
                    unit="bytes",
                )
            else:
                b.gauge(
                    "container_fs_usage_bytes",
                    "Number of bytes that are consumed by the container on this filesystem.",
                    {**app, "device": "/dev/nvme0n1p1"},
                    cad,
                    st.fs,
                    unit="bytes",
                )
            ksm_labels = {
                "job": "kube-state-metrics",
                "instance": ksm_instance,
                "namespace": ns,
                "pod": pod.name,
                "container": comp.name,
                "uid": f"{zlib.crc32(f'{sim.seed}:{pod.name}'.encode()):08x}-{pod.ip.replace('.', '')}",
            }
            b.counter_values(
                "kube_pod_container_status_restarts",
                "The number of container restarts per container.",
                ksm_labels,
                ksm.only(pod.alive),
                restart_counts(pod, n, rng.choice((0, 0, 0, 1, 2))),
            )
            b.gauge(
                "kube_pod_container_resource_limits",
                "The number of requested limit resource by a container.",
                {**ksm_labels, "resource": "memory", "unit": "byte"},
                ksm.only(pod.alive),
                [st.mem_limit] * n,
            )
    _istio(sim, b, rng, fractions, unmeshed)


def _workload_labels(ns: str, source: str, source_ns: str, dest: str) -> dict[str, str]:
    return {
        "source_workload": source,
        "source_workload_namespace": source_ns,
        "destination_workload": dest,
        "destination_workload_namespace": ns,
        "destination_service": f"{dest}.{ns}.svc.cluster.local",
    }


def _istio(
    sim: Sim, b: Builder, rng: random.Random, fractions: dict[str, dict[str, list[float]]], unmeshed: str | None
) -> None:
    """Istio's metrics; ``unmeshed`` runs without a sidecar: no envoy reports for it, its callers' envoys still do."""
    ns = sim.topology.namespace
    n = sim.cells
    topo = sim.topology
    gateway_pods = [f"{GATEWAY}-{''.join(rng.choice('bcdfghjk2456789') for _ in range(10))}-{k}x7q" for k in range(2)]
    calls: list[tuple[str, str, str, bool]] = []  # caller, callee, caller namespace, TCP?
    for c in topo.components:
        if c.kind == "entry":
            calls.append((GATEWAY, c.name, "istio-system", False))
    for e in topo.edges:
        calls.append((e.caller, e.callee, ns, topo.component(e.callee).kind in ("datastore", "cache")))
    for caller, callee, caller_ns, tcp in calls:
        dest = sim.states[callee]
        labels = _workload_labels(ns, caller, caller_ns, callee)
        if caller == GATEWAY:
            rps = list(dest.rps)
            err = dest.err
            refused = [0.0] * n
            caller_pods: list[tuple[str, list[float], str, Pod | None]] = [
                (p, [0.5] * n, "istio-system", None) for p in gateway_pods
            ]
        else:
            es = sim.edges[(caller, callee)]
            rps, err, refused = es.rps, es.err, es.refused
            cst = sim.states[caller]
            caller_pods = [(p.name, fractions[caller][p.name], ns, p) for p in cst.pods]
        # Callee side: what its envoy served (it never sees refused connections).
        callee_pods = [(p, fractions[callee][p.name]) for p in dest.pods]
        if tcp:
            if caller != unmeshed:
                _tcp(b, labels, rps, refused, caller_pods)
            continue
        protocol = "grpc" if topo.component(callee).grpc else "http"
        timeout = [dest.timeout_share[i] for i in range(n)]
        codes_dst = {
            "200": [r * (1 - x) for r, x in zip(dest.rps, dest.err, strict=True)],
            "500": [r * x * (1 - t) for r, x, t in zip(dest.rps, dest.err, timeout, strict=True)],
        }
        caller_weight = (
            [a / max(1e-9, d) for a, d in zip(rps, dest.rps, strict=True)] if caller != GATEWAY else [1.0] * n
        )
        shape_dst = b.shape(("istio-dst", callee), dest.p50, dest.p99, ISTIO_LES, 1000.0)
        for pod, frac in callee_pods if callee != unmeshed else []:
            tgt = b.target(f"envoy:{pod.name}").only(serving(pod))
            base = {
                **labels,
                "reporter": "destination",
                "request_protocol": protocol,
                "job": "kubernetes-pods",
                "namespace": ns,
                "pod": pod.name,
                "instance": f"{pod.ip}:15020",
            }
            for code, rate in codes_dst.items():
                r = [x * f * w for x, f, w in zip(rate, frac, caller_weight, strict=True)]
                lab = {**base, "response_code": code, "response_flags": "-"}
                b.counter("istio_requests", "", lab, tgt, r, resets=pod.restarts)
                if code == "200" or sum(r) * 5 > 200:
                    b.histogram(
                        "istio_request_duration_milliseconds",
                        "",
                        lab,
                        tgt,
                        count_rate=r,
                        shape=shape_dst,
                        resets=pod.restarts,
                        unit="milliseconds",
                    )
        # Caller side: what its envoy saw, including refused connections (503 UF) and timeouts (504 UT). Like many
        # meshes, this one keeps duration histograms from the destination reporter only (cardinality).
        for pod_name, frac, pod_ns, src_pod in caller_pods if caller != unmeshed else []:
            tgt = b.target(f"envoy:{pod_name}")
            if src_pod is not None:
                tgt = tgt.only(serving(src_pod))
            ip = src_pod.ip if src_pod is not None else f"10.8.0.{len(pod_name)}"
            base = {
                **labels,
                "reporter": "source",
                "request_protocol": protocol,
                "job": "kubernetes-pods",
                "namespace": pod_ns,
                "pod": pod_name,
                "instance": f"{ip}:15020",
            }
            resets = src_pod.restarts if src_pod is not None else []
            codes = {
                ("200", "-"): [r * (1 - x) for r, x in zip(rps, err, strict=True)],
                ("500", "-"): [
                    r * x * (1 - d) * (1 - t) for r, x, d, t in zip(rps, err, refused, timeout, strict=True)
                ],
                ("504", "UT"): [r * x * (1 - d) * t for r, x, d, t in zip(rps, err, refused, timeout, strict=True)],
                ("503", "UF,URX"): [r * x * d for r, x, d in zip(rps, err, refused, strict=True)],
            }
            for (code, flags), rate in codes.items():
                r = [x * f for x, f in zip(rate, frac, strict=True)]
                lab = {**base, "response_code": code, "response_flags": flags}
                b.counter("istio_requests", "", lab, tgt, r, resets=resets)


def _tcp(
    b: Builder,
    labels: dict[str, str],
    rps: list[float],
    refused: list[float],
    caller_pods: list[tuple[str, list[float], str, Pod | None]],
) -> None:
    """Datastore and cache calls are TCP to Istio: bytes and connections, no response codes."""
    sent = [r * 450 * (1 - d) for r, d in zip(rps, refused, strict=True)]
    received = [r * 2600 * (1 - d) for r, d in zip(rps, refused, strict=True)]
    opened = [0.05 + 8 * d for d in refused]  # a pool reconnects over and over when the server is gone
    for pod_name, frac, pod_ns, pod in caller_pods:
        tgt = b.target(f"envoy:{pod_name}")
        ip = pod.ip if pod is not None else "10.8.0.1"
        restarts = pod.restarts if pod is not None else []
        if pod is not None:
            tgt = tgt.only(serving(pod))
        base = {
            **labels,
            "reporter": "source",
            "request_protocol": "tcp",
            "job": "kubernetes-pods",
            "namespace": pod_ns,
            "pod": pod_name,
            "instance": f"{ip}:15020",
            "response_flags": "-",
        }
        b.counter("istio_tcp_sent_bytes", "", base, tgt, scaled(sent, frac), resets=restarts, integer=False)
        b.counter("istio_tcp_received_bytes", "", base, tgt, scaled(received, frac), resets=restarts, integer=False)
        b.counter("istio_tcp_connections_opened", "", base, tgt, scaled(opened, frac), resets=restarts)
        b.counter("istio_tcp_connections_closed", "", base, tgt, scaled(opened, frac), resets=restarts)
