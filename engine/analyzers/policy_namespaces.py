"""Ingress rules that name the right client pods but in the wrong namespace.

General knowledge from the Kubernetes NetworkPolicy and Cilium policy documentation: a ``from`` peer with only a
``podSelector`` selects pods in the policy's own namespace, and so does a namespaced CiliumNetworkPolicy's
``fromEndpoints`` selector without the ``k8s:io.kubernetes.pod.namespace`` label. A client with the right labels
in another namespace is dropped (Hubble: ``Policy denied DROPPED``); the peer needs a ``namespaceSelector`` (or the
namespace label) next to its pod labels.

The clients come from Hubble flows, as ``hubble observe`` prints them (``ns/pod:port <> ns/pod:port ... DROPPED``)
or as ``-o json`` lines (``source.namespace``, ``source.labels``), else from the client pods listed with their
namespace (``kubectl -n x get pods --show-labels`` or ``-l <selector>``).

A peer with a ``namespaceSelector`` admits only namespaces carrying its labels: a client moved to a new namespace
that lacks them (``kubernetes.io/metadata.name`` is the only label every namespace has) is dropped, and so is every
client once the only namespace the selector matches is being deleted (``Terminating``).
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
    return _dropped_flows(obs) or _clients_elsewhere(obs, ctx)


def _dropped_flows(obs: Observations) -> list[Finding]:
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


# --- without flows: the client pods and the namespaces' labels as listed -----------------------------------------

_SELECTOR_FLAG = re.compile(r"(?:^|\s)(?:-l|--selector)(?:\s+|=)(?P<selector>[^\s|]+)")
_NAMESPACE_FLAG = re.compile(r"(?:^|\s)(?:-n|--namespace)(?:\s+|=)(?P<ns>[a-z0-9][a-z0-9-]*)")


@dataclass
class _Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    cite: str


def _listed_pods(obs: Observations) -> list[_Pod]:
    """Pods whose namespace is known, with their labels: shown (``--show-labels``) or implied by the ``-l`` selector
    of the command that listed them (equality terms only)."""
    implied: dict[str, dict[str, str]] = {}
    for text in obs.texts:
        command = text.command.split("|", 1)[0]
        selector = _SELECTOR_FLAG.search(command)
        if not selector or not re.search(r"\bget\s+(?:\S+\s+)*?(?:pods?|po)\b", command):
            continue
        terms = dict(t.split("=", 1) for t in selector.group("selector").split(",") if "=" in t and "!" not in t)
        for line in text.lines[1:]:
            first = line.split()[0] if line.split() else ""
            if first:
                implied[first.split("/")[-1]] = {k.strip(): v.strip().strip("=") for k, v in terms.items()}
    return [
        _Pod(p.name, p.namespace, {**implied.get(p.name, {}), **p.labels}, p.cites.get("row", ""))
        for p in obs.pods
        if p.namespace and (p.labels or p.name in implied)
    ]


def _namespaces(obs: Observations) -> dict[str, tuple[dict[str, str], str, str]]:
    """Namespace -> (its labels, its status, the line that shows them), for namespaces listed with labels."""
    found: dict[str, tuple[dict[str, str], str, str]] = {}
    for ns in (r for r in obs.resources if r.kind == "Namespace"):
        labels = _d(_d(ns.raw.get("metadata")).get("labels")) or _d(ns.raw.get("labels"))
        status = str(_d(ns.raw.get("row")).get("STATUS") or _d(ns.raw.get("status")).get("phase") or "")
        if labels:
            found[ns.name] = ({str(k): str(v) for k, v in labels.items()}, status, ns.quote(ns.name))
    return found


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = {str(k): str(v) for k, v in _d(selector.get("matchLabels")).items()}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def _clients_elsewhere(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    pods = _listed_pods(obs)
    namespaces = _namespaces(obs)
    asked = set(ctx.question.words if ctx.question else ())
    for policy in (r for r in obs.resources if r.kind == "NetworkPolicy" and isinstance(r.raw.get("spec"), dict)):
        own = policy.namespace or ctx.namespace
        for rule in _l(_d(policy.raw["spec"]).get("ingress")):
            for peer in (_d(p) for p in _l(_d(rule).get("from"))):
                pod_selector = _d(peer.get("podSelector"))
                if "namespaceSelector" not in peer and pod_selector.get("matchLabels"):
                    here = [p for p in pods if p.namespace == own and _selects(pod_selector, p.labels)]
                    there = [p for p in pods if own and p.namespace != own and _selects(pod_selector, p.labels)]
                    if there and not here:
                        flow = _Flow(there[0].namespace, there[0].name, own or "", "", there[0].cite)
                        found = _finding(policy, flow, peer)
                        found.affected.insert(0, _target_app(policy))
                        found.workload = found.affected[0]
                        return [found]
                    continue
                ns_selector = _d(peer.get("namespaceSelector"))
                if not ns_selector.get("matchLabels") or not namespaces:
                    continue
                unlabelled = _unlabelled_client(policy, peer, pods, namespaces, asked)
                if unlabelled:
                    return [unlabelled]
    return []


def _unlabelled_client(
    policy: ResourceFact,
    peer: dict[str, Any],
    pods: list[_Pod],
    namespaces: dict[str, tuple[dict[str, str], str, str]],
    asked: set[str],
) -> Finding | None:
    ns_selector, pod_selector = _d(peer.get("namespaceSelector")), _d(peer.get("podSelector"))
    wanted = ",".join(f"{k}={v}" for k, v in _d(ns_selector.get("matchLabels")).items())
    matched = [name for name, (labels, _, _) in namespaces.items() if _selects(ns_selector, labels)]
    client: tuple[str, str, str] | None = None  # (namespace, who, evidence)
    if pod_selector.get("matchLabels"):
        movers = [p for p in pods if p.namespace in namespaces and _selects(pod_selector, p.labels)]
        outside = [p for p in movers if p.namespace not in matched]
        if outside and not [p for p in movers if p.namespace in matched]:
            client = (outside[0].namespace, f"the client {outside[0].name}", outside[0].cite)
    live = [name for name in matched if namespaces[name][1] != "Terminating"]
    if client is None and matched and not live:
        named = sorted(n for n in namespaces if n in asked and n not in matched and namespaces[n][1] != "Terminating")
        if named:
            client = (named[0], "the clients now", namespaces[named[0]][2])
    if client is None and not pod_selector.get("matchLabels"):
        # a namespace-only peer and the question names the one namespace the clients moved to ("since we moved
        # prometheus to the new observability namespace"): that namespace lacks the label, whatever else matches
        named = [
            n
            for n in namespaces
            if n in asked and n not in matched and n != policy.namespace and namespaces[n][1] != "Terminating"
        ]
        if len(named) == 1:
            client = (named[0], "the clients now", namespaces[named[0]][2])
    if client is None:
        return None
    namespace, who, cite = client
    target = _target_app(policy)
    labels = ",".join(f"{k}={v}" for k, v in namespaces[namespace][0].items())
    gone = [n for n in matched if namespaces[n][1] == "Terminating"]
    matches = (
        f"; it matches only namespace {', '.join(matched)}"
        + (" (Terminating)" if gone and len(gone) == len(matched) else "")
        if matched
        else "; no namespace has that label"
    )
    pods_part = (
        " pods labelled " + ",".join(f"{k}={v}" for k, v in _d(pod_selector.get("matchLabels")).items())
        if pod_selector.get("matchLabels")
        else ""
    )
    return Finding(
        kind="netpol_peer_namespace_unlabelled",
        subject=f"networkpolicy/{policy.name}",
        role="cause",
        title=f"{target}: NetworkPolicy {policy.name} admits ingress to {target} from{pods_part or ' pods'} only in namespaces labelled {wanted} (namespaceSelector){matches}, but {who} run{'s' if who.startswith('the client ') else ''} in namespace {namespace}, whose labels ({labels}) lack {wanted}, so those connections are dropped (they time out)",
        weight=92,
        evidence=[
            e
            for e in (
                policy.quote(next(iter(_d(ns_selector.get("matchLabels")).values()))),
                namespaces[namespace][2],
                cite,
            )
            if e
        ],
        workload=target,
        recommendations=[
            rec(
                "high",
                f"Select namespace {namespace} in NetworkPolicy {policy.name} (namespaceSelector kubernetes.io/metadata.name: {namespace}), or label it: kubectl label namespace {namespace} {wanted}",
            )
        ],
        affected=[target, policy.name, namespace],
        related=[policy.name],
    )


def _target_app(policy: ResourceFact) -> str:
    """The workload a policy protects, by its podSelector's app label (else the policy's name)."""
    labels = _d(_d(_d(policy.raw.get("spec")).get("podSelector")).get("matchLabels"))
    for key in ("app", "app.kubernetes.io/name", "k8s-app", "name"):
        if labels.get(key):
            return str(labels[key])
    return policy.name
