"""A Service with ``sessionAffinity: ClientIP`` whose load sits on a few of its pods.

kube-proxy pins every connection from one client IP to the same endpoint for
``sessionAffinityConfig.clientIP.timeoutSeconds`` (default 10800 s;
kubernetes.io/docs/reference/networking/virtual-ips/#session-affinity). With few clients (a handful of caller pods,
or one NAT/proxy address) a few pods take all the traffic and the rest idle, and adding replicas does not help.
The skew is read from ``kubectl top pods`` or a per-pod Prometheus result (``{pod="x"} => 412.7``).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from statistics import median

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding, workload_of

_PER_POD = re.compile(r"\bpod=\"(?P<pod>[\w.-]+)\"[^}]{0,300}\}\s*(?:=>\s*)?(?P<value>\d+(?:\.\d+)?)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    for service in obs.resources:
        spec = service.raw.get("spec") if service.kind == "Service" else None
        if not isinstance(spec, dict) or spec.get("sessionAffinity") != "ClientIP":
            continue
        names = {service.name, *(str(v) for v in (spec.get("selector") or {}).values())}
        load, cites = _per_pod(obs, names)
        skew = _skew(load)
        if skew is None:
            continue
        return [_finding(service, spec, skew, cites)]
    return []


def _per_pod(obs: Observations, names: set[str]) -> tuple[dict[str, float], list[str]]:
    """Each pod's CPU (``kubectl top``), else its per-pod metric value, for the pods of one of ``names``."""
    cpu = {
        u.name: u.cpu_millicores
        for u in obs.usage
        if u.kind == "pod" and u.cpu_millicores is not None and workload_of(u.name) in names
    }
    if len(cpu) >= 3:
        return {f"{pod} ({value}m CPU)": float(value) for pod, value in cpu.items()}, [
            u.cite for u in obs.usage if u.name in cpu and u.cite
        ]
    load: dict[str, float] = {}
    cites: list[str] = []
    for doc in obs.logs:
        for line in doc.lines[:5000]:
            match = _PER_POD.search(line)
            if match and workload_of(match.group("pod")) in names:
                load[match.group("pod")] = float(match.group("value"))
                cites.append(f"{doc.label} {line.strip()}")
    return load, cites


def _skew(load: dict[str, float]) -> tuple[list[str], int] | None:
    """The hot pods and how many sit idle, when a few pods carry at least five times the typical pod's load."""
    if len(load) < 3:
        return None
    typical = median(load.values())
    peak = max(load.values())
    hot = sorted(
        (pod for pod, value in load.items() if value >= max(5 * typical, 0.5 * peak) and value > 0),
        key=lambda p: -load[p],
    )
    if not hot or len(hot) > len(load) / 2 or peak < 5 * max(typical, 1e-9):
        return None
    return hot, len(load) - len(hot)


def _finding(service: ResourceFact, spec: dict[str, object], skew: tuple[list[str], int], cites: list[str]) -> Finding:
    hot, idle = skew
    config = spec.get("sessionAffinityConfig")
    timeout = (config or {}).get("clientIP", {}).get("timeoutSeconds") if isinstance(config, dict) else None
    pinned = f" for {timeout} s" if timeout else " (10800 s by default)"
    hot_cites = [c for c in cites if any(h.split()[0] in c for h in hot)]
    return Finding(
        kind="service_session_affinity",
        subject=f"service/{service.name}",
        role="cause",
        title=(
            f"Service {service.name} sets sessionAffinity: ClientIP, so kube-proxy sends every connection from one client IP to the same pod{pinned}: "
            f"with few clients, {len(hot)} pod(s) take the traffic ({', '.join(hot)}) while {idle} others sit idle, and more replicas do not spread it"
        ),
        weight=90,
        evidence=[
            service.quote("sessionAffinity", fallback=f"Service {service.name}: sessionAffinity ClientIP"),
            *hot_cites[:2],
        ],
        workload=service.name,
        recommendations=[
            rec(
                "high",
                f"Remove sessionAffinity: ClientIP from Service {service.name} (sessionAffinity: None) unless the app needs sticky sessions; keep stickiness at the application or ingress layer if it does",
            )
        ],
        affected=[service.name],
    )
