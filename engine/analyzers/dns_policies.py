"""Egress policies that mean to allow DNS but do not reach the resolver the pods use.

General knowledge from the NetworkPolicy and NodeLocal DNSCache documentation:

- A ``to`` element holding only a ``podSelector`` selects pods in the policy's own namespace. The cluster DNS pods
  (``k8s-app=kube-dns``, CoreDNS included) run in ``kube-system``, so such a rule admits no DNS server unless the
  same element also has a ``namespaceSelector`` (``kubernetes.io/metadata.name: kube-system``).
- With NodeLocal DNSCache the pods' ``/etc/resolv.conf`` names a link-local address (169.254.20.10) served by a
  hostNetwork DaemonSet: pod and namespace selectors never match host-network endpoints, so DNS needs an
  ``ipBlock`` for that address (port 53 UDP and TCP).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import ipaddress
import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.dns_evidence import dns_failure_lines
from engine.analyzers.network_peers import network_policies
from engine.facts import Observations, ResourceFact
from engine.findings import Finding

_DNS_LABELS = {("k8s-app", "kube-dns"), ("k8s-app", "coredns"), ("app.kubernetes.io/name", "coredns")}
_DNS_NAMESPACE = "kube-system"
_NAMESERVER = re.compile(r"^\s*nameserver\s+(?P<ip>169\.254\.\d{1,3}\.\d{1,3})\s*$")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    policies = network_policies(obs)
    egress = [p for p in policies if "Egress" in [str(t) for t in _l(_d(p.raw["spec"]).get("policyTypes"))]]
    if not egress:
        return []
    failures = dns_failure_lines(obs)
    return _node_local_dns(egress, obs, failures) or _dns_peer_in_own_namespace(egress, failures)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dns_rules(policy: ResourceFact) -> list[dict[str, Any]]:
    """The policy's egress rules that admit port 53 (or every port)."""
    rules = [_d(r) for r in _l(_d(policy.raw["spec"]).get("egress"))]
    return [
        r
        for r in rules
        if not _l(r.get("ports")) or any(str(_d(p).get("port")) in ("53", "dns", "dns-tcp") for p in _l(r.get("ports")))
    ]


def _is_dns_selector(peer: dict[str, Any]) -> bool:
    labels = {(str(k), str(v)) for k, v in _d(_d(peer.get("podSelector")).get("matchLabels")).items()}
    return bool(labels & _DNS_LABELS)


def _target(policy: ResourceFact) -> str:
    labels = _d(_d(_d(policy.raw["spec"]).get("podSelector")).get("matchLabels"))
    for key in ("app", "app.kubernetes.io/name", "k8s-app", "name"):
        if key in labels:
            return str(labels[key])
    return f"the pods of namespace {policy.namespace}" if policy.namespace else "the selected pods"


def _dns_peer_in_own_namespace(egress: list[ResourceFact], failures: list[tuple[str, str]]) -> list[Finding]:
    for policy in egress:
        if policy.namespace == _DNS_NAMESPACE:
            continue
        rules = _dns_rules(policy)
        peers = [_d(p) for r in rules for p in _l(r.get("to"))]
        lonely = [p for p in peers if _is_dns_selector(p) and "namespaceSelector" not in p]
        if not lonely:
            continue
        others = [  # rules of any policy that admit DNS beyond this namespace: any destination, a namespace or a range
            rule
            for other in egress
            for rule in _dns_rules(other)
            if not _l(rule.get("to"))
            or any("namespaceSelector" in _d(q) or "ipBlock" in _d(q) for q in _l(rule.get("to")))
        ]
        if others:
            continue  # another rule admits DNS servers outside the namespace
        labels = ",".join(f"{k}={v}" for k, v in _d(lonely[0]["podSelector"]).get("matchLabels", {}).items())
        namespace = policy.namespace or "its own namespace"
        fails = f"; lookups fail: {failures[0][1][:160]}" if failures else ""
        return [
            Finding(
                kind="netpol_dns_peer_wrong_namespace",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=f"{policy.name}: NetworkPolicy {policy.name} allows DNS only to pods labelled {labels} selected by a podSelector without a namespaceSelector, which selects pods in the policy's own namespace ({namespace}); the DNS pods run in {_DNS_NAMESPACE}, so no DNS server is allowed and name lookups from {_target(policy)} time out{fails}",
                weight=93 if failures else 82,
                evidence=[
                    policy.quote(labels.split("=")[-1], fallback=f"NetworkPolicy {policy.name}: podSelector {labels}"),
                    *[f"{label} {line}" for label, line in failures[:1]],
                ],
                workload=policy.name,
                recommendations=[
                    rec(
                        "high",
                        f"In NetworkPolicy {policy.name}, add namespaceSelector matchLabels kubernetes.io/metadata.name: {_DNS_NAMESPACE} to the same `to` element as podSelector {labels} (UDP and TCP 53)",
                    )
                ],
                affected=[policy.name],
            )
        ]
    return []


def _node_local_dns(egress: list[ResourceFact], obs: Observations, failures: list[tuple[str, str]]) -> list[Finding]:
    nameserver: tuple[str, str] | None = None
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            match = _NAMESERVER.match(line)
            if match:
                nameserver = (match.group("ip"), f"{label} {line.strip()}")
                break
        if nameserver:
            break
    if nameserver is None:
        return []
    ip = nameserver[0]
    for policy in egress:
        rules = _dns_rules(policy)
        blocks = [
            str(_d(_d(p).get("ipBlock")).get("cidr", "")) for r in rules for p in _l(r.get("to")) if "ipBlock" in _d(p)
        ]
        if any(not _l(r.get("to")) for r in rules) or any(_covers(b, ip) for b in blocks):
            continue  # DNS to any address, or to the node-local address, is allowed
        selectors = [p for r in rules for p in _l(r.get("to")) if "ipBlock" not in _d(p)]
        allowed = " (its DNS rule names kube-dns by pod/namespace selector)" if selectors else ""
        fails = f"; lookups fail: {failures[0][1][:160]}" if failures else ""
        return [
            Finding(
                kind="netpol_blocks_node_local_dns",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=f"{_target(policy)}: the pods resolve names through NodeLocal DNSCache at {ip} (their resolv.conf nameserver, a hostNetwork DaemonSet on each node), which NetworkPolicy {policy.name} does not allow{allowed}: pod and namespace selectors never match host-network endpoints, so name lookups time out{fails}",
                weight=93 if failures else 84,
                evidence=[
                    nameserver[1],
                    policy.quote("53", fallback=f"NetworkPolicy {policy.name}: egress port 53"),
                    *[f"{label} {line}" for label, line in failures[:1]],
                ],
                workload=_target(policy),
                recommendations=[
                    rec(
                        "high",
                        f"Allow egress to ipBlock {ip}/32 on UDP and TCP port 53 in NetworkPolicy {policy.name} (next to the kube-dns rule, which the cache forwards to)",
                    )
                ],
                affected=[_target(policy), policy.name],
            )
        ]
    return []


def _covers(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
