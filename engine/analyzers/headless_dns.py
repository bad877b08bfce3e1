"""Peers that cannot resolve each other through a headless Service until they are Ready.

A headless Service (``clusterIP: None``) publishes per-pod DNS records (``<pod>.<service>.<ns>.svc``) only for
Ready pods unless it sets ``publishNotReadyAddresses: true``
(kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceSpec). Clustered software that
must find its peers before it can report Ready (etcd, ZooKeeper, Cassandra, RabbitMQ, Elasticsearch) then never
forms a cluster: each pod waits for names that appear only once it is Ready.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_UNRESOLVED = re.compile(
    r"(?:failed to resolve|can't find|could not resolve|no such host|NXDOMAIN|UnknownHostException|Name or service not known|nodename nor servname)",
    re.IGNORECASE,
)
_HOST = r"(?P<pod>[a-z0-9][a-z0-9-]*)\.{service}\.(?:{namespace}\b|svc\b)"


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(text_lines(obs))
    for service in obs.resources:
        spec = service.raw.get("spec") if service.kind == "Service" else None
        if (
            not isinstance(spec, dict)
            or spec.get("clusterIP") != "None"
            or spec.get("publishNotReadyAddresses") is True
        ):
            continue
        host = re.compile(
            _HOST.format(service=re.escape(service.name), namespace=re.escape(service.namespace or "svc"))
        )
        failed = [
            (label, line, m.group("pod"))
            for label, line in lines
            if service.name in line and _UNRESOLVED.search(line) and (m := host.search(line))
        ]
        if not failed:
            continue
        pods = sorted({pod for _, _, pod in failed})
        workload = workload_of(pods[0])
        label, line, _ = failed[0]
        return [
            Finding(
                kind="headless_not_ready_dns",
                subject=f"service/{service.name}",
                role="cause",
                title=(
                    f"{workload}'s peers cannot resolve each other ({', '.join(f'{p}.{service.name}' for p in pods[:3])}): the headless Service {service.name} "
                    f"does not set publishNotReadyAddresses, so DNS has records only for Ready pods, and the pods cannot become Ready before they find their peers"
                ),
                weight=92,
                evidence=[
                    f"{label} {excerpt(line.strip(), around=service.name)}",
                    service.quote("clusterIP", fallback=f"Service {service.name}: clusterIP None"),
                ],
                workload=workload,
                recommendations=[
                    rec(
                        "high",
                        f"Set publishNotReadyAddresses: true on Service {service.name} (the peer-discovery Service) so not-ready pods get DNS records",
                    )
                ],
                affected=[workload],
            )
        ]
    return []
