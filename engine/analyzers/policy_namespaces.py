"""Ingress rules that name the right client pods but in the wrong namespace.

General knowledge from the Kubernetes NetworkPolicy and Cilium policy documentation: a ``from`` peer with only a
``podSelector`` selects pods in the policy's own namespace, and so does a namespaced CiliumNetworkPolicy's
``fromEndpoints`` selector without the ``k8s:io.kubernetes.pod.namespace`` label. A client with the right labels
in another namespace is dropped (Hubble: ``Policy denied DROPPED``); the peer needs a ``namespaceSelector`` (or the
namespace label) next to its pod labels.

The clients come from Hubble flows, as ``hubble observe`` prints them (``ns/pod:port <> ns/pod:port ... DROPPED``)
or as ``-o json`` lines (``source.namespace``, ``source.labels``).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_TEXT_FLOW = re.compile(  # bounded gaps: a flow line is short, and the line was checked for DROPPED/denied
    r"(?P<sns>[a-z0-9][\w-]*)/(?P<spod>[a-z0-9][\w.-]*):\d+\s[^\n]{0,60}?(?:->|<>)\s+(?P<dns>[a-z0-9][\w-]*)/(?P<dpod>[a-z0-9][\w.-]*):(?P<port>\d+)\b"
)
_NAMESPACE_KEYS = ("k8s:io.kubernetes.pod.namespace", "io.kubernetes.pod.namespace", "kubernetes.io/metadata.name")


@dataclass
class _Flow:
    source_ns: str
    source_pod: str
    dest_ns: str
    dest_pod: str
    cite: str
    source_labels: dict[str, str] = field(default_factory=dict)
    dest_labels: dict[str, str] = field(default_factory=dict)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    flows = [f for f in _drops(obs) if f.source_ns != f.dest_ns]
    if not flows:
        return []
    for policy in obs.resources:
        if policy.kind not in ("NetworkPolicy", "CiliumNetworkPolicy") or not isinstance(policy.raw.get("spec"), dict):
            continue
        for flow in flows:
            if policy.namespace not in (None, flow.dest_ns) or not _selects_destination(policy, flow):
                continue
            peer = _same_namespace_peer(policy, flow)
            if peer is not None:
                return [_finding(policy, flow, peer)]
    return []


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _labels(raw: Any) -> dict[str, str]:
    """Hubble's ``["k8s:app=x", ...]`` as ``{"app": "x"}`` (the namespace label keeps its full key)."""
    found: dict[str, str] = {}
    for item in _l(raw):
        key, _, value = str(item).partition("=")
        found[key if key in _NAMESPACE_KEYS else key.split(":", 1)[-1]] = value
    return found


def _drops(obs: Observations) -> list[_Flow]:
    flows: list[_Flow] = []
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for full in lines[:5000]:
            if "DROPPED" not in full and "denied" not in full.lower():
                continue
            line = full[:4096]  # a flow is one short line: never scan a huge one
            if '"verdict"' in line and line.lstrip().startswith("{"):
                try:
                    record = _d(_d(json.loads(line)).get("flow")) or _d(json.loads(line))
                except ValueError:
                    continue
                if record.get("verdict") != "DROPPED":
                    continue
                source, dest = _d(record.get("source")), _d(record.get("destination"))
                if source.get("namespace") and dest.get("namespace"):
                    flows.append(
                        _Flow(
                            str(source["namespace"]),
                            str(source.get("pod_name", "")),
                            str(dest["namespace"]),
                            str(dest.get("pod_name", "")),
                            f"{label} {excerpt(line.strip(), around='DROPPED')}",
                            _labels(source.get("labels")),
                            _labels(dest.get("labels")),
                        )
                    )
                continue
            match = _TEXT_FLOW.search(line)
            if match:
                flows.append(
                    _Flow(
                        match.group("sns"),
                        match.group("spod"),
                        match.group("dns"),
                        match.group("dpod"),
                        f"{label} {line.strip()}",
                    )
                )
    return flows


def _matches(selector: dict[str, Any], labels: dict[str, str], pod: str) -> bool:
    wanted = {str(k).split(":", 1)[-1]: str(v) for k, v in _d(selector.get("matchLabels")).items()}
    if not wanted:
        return True
    if labels:
        return all(labels.get(k) == v for k, v in wanted.items())
    return any(v == workload_of(pod) for v in wanted.values())  # text flows: the pod is named after its app


def _selects_destination(policy: ResourceFact, flow: _Flow) -> bool:
    spec = _d(policy.raw["spec"])
    selector = _d(spec.get("endpointSelector") if policy.kind == "CiliumNetworkPolicy" else spec.get("podSelector"))
    return _matches(selector, flow.dest_labels, flow.dest_pod)


def _same_namespace_peer(policy: ResourceFact, flow: _Flow) -> dict[str, Any] | None:
    """The ingress peer that selects the client's labels but only in the policy's namespace."""
    spec = _d(policy.raw["spec"])
    for rule in _l(spec.get("ingress")):
        rule = _d(rule)
        peers = _l(rule.get("fromEndpoints")) if policy.kind == "CiliumNetworkPolicy" else _l(rule.get("from"))
        for peer in peers:
            peer = _d(peer)
            if policy.kind == "CiliumNetworkPolicy":
                keys = {str(k) for k in _d(peer.get("matchLabels"))}
                if keys & set(_NAMESPACE_KEYS) or not keys:
                    continue
                if _matches(peer, flow.source_labels, flow.source_pod):
                    return peer
            elif (
                "namespaceSelector" not in peer
                and _d(peer.get("podSelector")).get("matchLabels")
                and _matches(_d(peer["podSelector"]), flow.source_labels, flow.source_pod)
            ):
                return peer
    return None


def _finding(policy: ResourceFact, flow: _Flow, peer: dict[str, Any]) -> Finding:
    selector = _d(peer.get("matchLabels") or _d(peer.get("podSelector")).get("matchLabels"))
    labels = ",".join(f"{k}={v}" for k, v in selector.items())
    fix = (
        f"add k8s:io.kubernetes.pod.namespace: {flow.source_ns} to the fromEndpoints selector"
        if policy.kind == "CiliumNetworkPolicy"
        else f"add namespaceSelector kubernetes.io/metadata.name: {flow.source_ns} to the same `from` element"
    )
    what = "fromEndpoints selector" if policy.kind == "CiliumNetworkPolicy" else "podSelector"
    return Finding(
        kind="netpol_peer_other_namespace",
        subject=f"{policy.kind.lower()}/{policy.name}",
        role="cause",
        title=f"{policy.name}: {policy.kind} {policy.name} admits ingress from pods labelled {labels} only in its own namespace {flow.dest_ns} (a {what} without a namespace selects pods of the policy's namespace), but the client {flow.source_pod or labels} runs in namespace {flow.source_ns}, so its connections are dropped",
        weight=92,
        evidence=[
            policy.quote(next(iter(selector.values()), policy.name), fallback=f"{policy.kind} {policy.name}: {labels}"),
            flow.cite,
        ],
        workload=policy.name,
        recommendations=[rec("high", f"In {policy.kind} {policy.name}, {fix}")],
        affected=[policy.name, workload_of(flow.source_pod) if flow.source_pod else flow.source_ns],
    )
