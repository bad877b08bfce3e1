"""NetworkPolicy ports and addresses that can never match what the packets carry.

General knowledge from the NetworkPolicy documentation:

- A named ``port`` in a policy rule is resolved against the container ports of that name on the pods: when the
  pods declare no port of that name (a chart renamed ``http`` to ``http-api``), the rule admits nothing.
- Policies are enforced on the connection after kube-proxy has translated a Service's ClusterIP to an endpoint:
  an ``ipBlock`` naming a ClusterIP (the ``kubernetes`` Service's 10.96.0.1:443, say) never matches; the API
  server must be allowed by its endpoints' addresses and port (typically 6443).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import ipaddress
import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.network_peers import network_policies
from engine.analyzers.service_ports import declared_port_names
from engine.facts import Observations, ResourceFact
from engine.findings import Finding
from engine.parsers.common import excerpt


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    policies = network_policies(obs)
    findings: list[Finding] = []
    for policy in policies:
        findings += _named_ports(policy, obs)
        findings += _cluster_ip_blocks(policy, obs)
    return findings


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _target(policy: ResourceFact) -> str:
    labels = _d(_d(_d(policy.raw["spec"]).get("podSelector")).get("matchLabels"))
    for key in ("app", "app.kubernetes.io/name", "k8s-app", "name"):
        if key in labels:
            return str(labels[key])
    return policy.name


# --- named ports ---------------------------------------------------------------------------------------------


def _named_ports(policy: ResourceFact, obs: Observations) -> list[Finding]:
    spec = _d(policy.raw["spec"])
    rules = [_d(r) for r in _l(spec.get("ingress"))]
    named = sorted(
        {str(_d(p).get("port")) for r in rules for p in _l(r.get("ports")) if not str(_d(p).get("port", "0")).isdigit()}
    )
    if not named:
        return []
    declared = declared_port_names(obs)
    if not declared:
        return []  # the pods' port names are not shown: nothing to compare
    missing = [name for name in named if name not in declared]
    if not missing:
        return []
    name = missing[0]
    existing = ", ".join(f"{k} ({v[0]})" for k, v in sorted(declared.items()))
    first = next(iter(sorted(declared.items())))
    return [
        Finding(
            kind="netpol_named_port_missing",
            subject=f"networkpolicy/{policy.name}",
            role="cause",
            title=f"{_target(policy)}: NetworkPolicy {policy.name} admits ingress only on the named port '{name}', but the pods declare no container port named '{name}' (their ports: {existing}), so the rule admits nothing and connections time out",
            weight=90,
            evidence=[policy.quote(name, fallback=f"NetworkPolicy {policy.name}: port {name}"), first[1][1]],
            workload=_target(policy),
            recommendations=[
                rec(
                    "high",
                    f"Use the pods' port name (or number) in NetworkPolicy {policy.name}: e.g. port {first[0]} ({first[1][0]})",
                )
            ],
            affected=[_target(policy), policy.name],
        )
    ]


# --- ipBlock naming a ClusterIP ------------------------------------------------------------------------------

_API_CALL = re.compile(r"https://(?P<ip>\d+\.\d+\.\d+\.\d+):(?P<port>\d+)/(?:api|apis|healthz|version)\b")
_TIMEOUT = re.compile(r"i/o timeout|timed out|deadline exceeded", re.IGNORECASE)
_ENDPOINT_ROW = re.compile(r"^\s*kubernetes\s+(?P<endpoints>(?:\d+\.\d+\.\d+\.\d+:\d+,?)+)")


def _cluster_ips(obs: Observations) -> dict[str, tuple[str, str]]:
    """ClusterIP -> (Service name, evidence): from Service objects and tables, and the API server's address as
    in-cluster clients dial it (``https://10.96.0.1:443/api...``)."""
    found: dict[str, tuple[str, str]] = {}
    for resource in obs.resources:
        if resource.kind != "Service":
            continue
        ip = str(_d(resource.raw.get("spec")).get("clusterIP") or _d(resource.raw.get("row")).get("CLUSTER-IP") or "")
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", ip):
            found[ip] = (resource.name, resource.quote(ip))
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            call = _API_CALL.search(line)
            if call and _TIMEOUT.search(line):
                found.setdefault(call.group("ip"), ("kubernetes", f"{label} {excerpt(line.strip())}"))
    return found


def _api_endpoints(obs: Observations) -> tuple[str, str] | None:
    for resource in obs.resources:
        if resource.kind == "Endpoints" and resource.name == "kubernetes":
            listed = str(_d(resource.raw.get("row")).get("ENDPOINTS", ""))
            if listed:
                return listed, resource.quote(listed.split(",")[0])
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            row = _ENDPOINT_ROW.match(line)
            if row:
                return row.group("endpoints"), f"{label} {line.strip()}"
    return None


def _cluster_ip_blocks(policy: ResourceFact, obs: Observations) -> list[Finding]:
    spec = _d(policy.raw["spec"])
    if "Egress" not in [str(t) for t in _l(spec.get("policyTypes"))]:
        return []
    ips = _cluster_ips(obs)
    if not ips:
        return []
    for rule in _l(spec.get("egress")):
        for peer in _l(_d(rule).get("to")):
            cidr = str(_d(_d(peer).get("ipBlock")).get("cidr", ""))
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                continue
            if network.prefixlen < 24:
                continue  # a broad range may hold the endpoints too
            hit = next((ip for ip in ips if ipaddress.ip_address(ip) in network), None)
            if hit is None:
                continue
            service, cite = ips[hit]
            endpoints = _api_endpoints(obs) if service == "kubernetes" else None
            where = (
                f" ({endpoints[0]})"
                if endpoints
                else (" (the API server's addresses, port 6443 as a rule)" if service == "kubernetes" else "")
            )
            return [
                Finding(
                    kind="netpol_ipblock_cluster_ip",
                    subject=f"networkpolicy/{policy.name}",
                    role="cause",
                    title=f"{_target(policy)}: NetworkPolicy {policy.name} allows egress to {cidr}, the ClusterIP of Service {service}, but policies match the connection after it is translated to the Service's endpoints{where}, which no rule admits, so connections from {_target(policy)} time out",
                    weight=91,
                    evidence=[
                        policy.quote(cidr.split("/")[0], fallback=f"NetworkPolicy {policy.name}: ipBlock {cidr}"),
                        cite,
                        *([endpoints[1]] if endpoints else []),
                    ],
                    workload=_target(policy),
                    recommendations=[
                        rec(
                            "high",
                            f"Allow egress to the endpoints of Service {service}{where} on their port instead of its ClusterIP in NetworkPolicy {policy.name}",
                        )
                    ],
                    affected=[_target(policy), policy.name],
                )
            ]
    return []
