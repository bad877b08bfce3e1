"""A LoadBalancer Service with ``externalTrafficPolicy: Local`` whose load-balancer targets run none of its pods.

With ``Local`` each node answers the load balancer's health check on ``healthCheckNodePort`` with 200 only when it
runs a Ready endpoint of the Service (``localEndpoints`` > 0), else 503
(kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip).
When the targets are limited to some nodes (AWS ``service.beta.kubernetes.io/aws-load-balancer-target-node-labels``)
and the pods moved elsewhere (a nodeSelector change), every target fails its health check and the load balancer
has nowhere to send traffic.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.facts import Observations, ResourceFact
from engine.findings import Finding, workload_of

_TARGET_LABELS = "service.beta.kubernetes.io/aws-load-balancer-target-node-labels"
_NO_LOCAL = re.compile(r"\"localEndpoints\"\s*:\s*0\b")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(text_lines(obs))
    for svc in obs.resources:
        spec = svc.raw.get("spec") if svc.kind == "Service" else None
        if (
            not isinstance(spec, dict)
            or spec.get("type") != "LoadBalancer"
            or spec.get("externalTrafficPolicy") != "Local"
        ):
            continue
        names = {svc.name, *(str(v) for v in (spec.get("selector") or {}).values())}
        pod_nodes = {p.node for p in obs.pods if p.node and workload_of(p.name) in names}
        annotations = (svc.raw.get("metadata") or {}).get("annotations") or {}
        selector = str(annotations.get(_TARGET_LABELS, ""))
        targets = _labelled_nodes(lines, selector) if selector else set()
        no_local = next((f"{label} {line.strip()}" for label, line in lines if _NO_LOCAL.search(line)), None)
        if targets and pod_nodes and not targets & pod_nodes:
            return [_finding(svc, spec, selector, sorted(pod_nodes), no_local)]
        if no_local and pod_nodes:
            return [_finding(svc, spec, "", sorted(pod_nodes), no_local)]
    return []


def _labelled_nodes(lines: list[tuple[str, str]], selector: str) -> set[str]:
    """The nodes whose ``kubectl get nodes -L <key>`` column shows every ``key=value`` of the selector."""
    wanted = dict(pair.split("=", 1) for pair in selector.split(",") if "=" in pair)
    found: set[str] = set()
    header: list[str] = []
    for _, line in lines:
        cells = line.split()
        if cells[:2] == ["NAME", "STATUS"]:
            header = cells
            continue
        if not header or len(cells) != len(header):
            header = header if cells else []
            continue
        row = dict(zip(header, cells, strict=True))
        if wanted and all(row.get(key.rsplit("/", 1)[-1].upper()) == value for key, value in wanted.items()):
            found.add(cells[0])
    return found


def _finding(
    svc: ResourceFact, spec: dict[str, object], selector: str, pod_nodes: list[str], no_local: str | None
) -> Finding:
    port = spec.get("healthCheckNodePort")
    check = f" on healthCheckNodePort {port}" if port else ""
    where = (
        f"registers only the nodes labelled {selector} as load-balancer targets ({_TARGET_LABELS.rsplit('/', 1)[-1]}), but none of its pods runs there (they run on {', '.join(pod_nodes[:3])})"
        if selector
        else "sends load-balancer traffic only to nodes running one of its pods, and the target nodes report no local endpoint (localEndpoints 0)"
    )
    return Finding(
        kind="lb_local_no_endpoints",
        subject=f"service/{svc.name}",
        role="cause",
        title=(
            f"Service {svc.name} (LoadBalancer, externalTrafficPolicy: Local) {where}: with Local, a node without a local endpoint fails the health check{check} "
            f"(localEndpoints 0), so every target is unhealthy and the load balancer has nowhere to send traffic"
        ),
        weight=92,
        evidence=[
            svc.quote("externalTrafficPolicy"),
            *([svc.quote(_TARGET_LABELS)] if selector else []),
            *([no_local] if no_local else []),
        ],
        workload=svc.name,
        recommendations=[
            rec(
                "high",
                f"Run {svc.name}'s pods on the target nodes (or widen {_TARGET_LABELS} to the nodes they run on), or use externalTrafficPolicy: Cluster / IP targets if client source IPs need not be preserved",
            )
        ],
        affected=[svc.name],
    )
